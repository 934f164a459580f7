"""Read the data that Keras's data set files keep in pickle streams, without unpickling them.

The CIFAR batch files are pickled dicts and imdb.npz / reuters.npz hold object arrays (pickles inside the .npy
members). `pickle.load` would run whatever the stream asks for, so a tampered download could execute code.
This module instead interprets the stream itself with a small stack machine that knows only what these files
contain: None, booleans, ints, floats, bytes, str, tuples, lists and dicts, plus NumPy arrays and dtypes. Those
two are recognised by name (numpy's `_reconstruct`, `ndarray`, `dtype`, and `_codecs.encode`, which Python 3
uses for bytes at protocol 2) and rebuilt here from plain values: no name from the stream is ever imported or
called. Any other opcode or global (objects, classes, extension codes, persistent ids) makes the stream refused.
"""

from __future__ import annotations

import re
import struct
from typing import Any

import numpy as np


class UnsafePickleError(ValueError):
    """The stream uses something other than the plain values a data set file holds."""


_RECONSTRUCT = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct")}
_NDARRAY = ("numpy", "ndarray")
_DTYPE = ("numpy", "dtype")
_ENCODE = ("_codecs", "encode")
_ALLOWED = _RECONSTRUCT | {_NDARRAY, _DTYPE, _ENCODE}
_DTYPE_NAME = re.compile(r"^[biufcOSU]\d*$")


class _Global:
    __slots__ = ("key",)

    def __init__(self, key: tuple[str, str]) -> None:
        self.key = key


class _ArrayStub:
    """An ndarray between its REDUCE and its BUILD; `keys` are the memo slots that hold it."""

    __slots__ = ("keys",)

    def __init__(self) -> None:
        self.keys: list[int] = []


class _DtypeStub:
    __slots__ = ("name", "dtype")

    def __init__(self, name: str) -> None:
        self.name = name
        self.dtype: np.dtype | None = None


class _Mark:
    pass


_MARK = _Mark()


def _global(module: str, name: str) -> _Global:
    if (module, name) not in _ALLOWED:
        raise UnsafePickleError(f"the stream refers to {module}.{name}, which a data set file does not need; "
                                "it is not read (the file may be corrupted or tampered with).")
    return _Global((module, name))


def _text(value: Any) -> Any:
    return value.decode("ascii", "replace") if isinstance(value, bytes) else value


def _reduce(func: Any, args: Any) -> Any:
    if not isinstance(func, _Global) or not isinstance(args, tuple):
        raise UnsafePickleError("the stream calls something other than the NumPy array reconstructors.")
    if func.key in _RECONSTRUCT:
        if len(args) != 3 or not (isinstance(args[0], _Global) and args[0].key == _NDARRAY):
            raise UnsafePickleError("only plain numpy.ndarray objects are read.")
        return _ArrayStub()
    if func.key == _DTYPE:
        name = _text(args[0]) if args else None  # Python 2 files give bytes
        if not isinstance(name, str) or not _DTYPE_NAME.match(name):
            raise UnsafePickleError(f"unsupported NumPy dtype in the stream: {args[:1]!r}.")
        return _DtypeStub(name)
    if func.key == _ENCODE:
        if len(args) != 2 or not isinstance(args[0], str) or args[1] not in ("latin1", "latin-1"):
            raise UnsafePickleError("_codecs.encode is only read as latin-1 encoded bytes.")
        return args[0].encode("latin-1")
    raise UnsafePickleError(f"{func.key[0]}.{func.key[1]} cannot be called.")


def _build(target: Any, state: Any) -> Any:
    if isinstance(target, _DtypeStub) and isinstance(state, tuple) and len(state) >= 2:
        if any(field is not None for field in state[2:5]):
            raise UnsafePickleError("structured NumPy dtypes are not read.")
        dtype = np.dtype(target.name)
        if _text(state[1]) in ("<", ">") and dtype.itemsize > 1 and dtype.kind != "O":
            dtype = dtype.newbyteorder(_text(state[1]))
        target.dtype = dtype
        return target
    if isinstance(target, _ArrayStub) and isinstance(state, tuple) and len(state) == 5:
        return _array(*state)
    raise UnsafePickleError("the stream sets the state of something other than a NumPy array or dtype.")


def _array(version: Any, shape: Any, dtype: Any, fortran: Any, raw: Any) -> np.ndarray:
    if not (isinstance(shape, tuple) and all(isinstance(n, int) and n >= 0 for n in shape)):
        raise UnsafePickleError(f"bad array shape in the stream: {shape!r}.")
    if not isinstance(dtype, _DtypeStub) or dtype.dtype is None:
        raise UnsafePickleError("an array in the stream has no plain dtype.")
    order = "F" if fortran else "C"
    size = int(np.prod(shape, dtype=np.int64))
    if dtype.dtype.kind == "O":
        if not isinstance(raw, list) or len(raw) != size:
            raise UnsafePickleError(f"an object array of shape {shape} does not hold {size} items.")
        out = np.empty(size, dtype=object)
        out[:] = raw
        return out.reshape(shape, order=order)
    if not isinstance(raw, (bytes, bytearray)) or len(raw) != size * dtype.dtype.itemsize:
        raise UnsafePickleError(f"an array of shape {shape} and dtype {dtype.dtype} has the wrong number of bytes.")
    return np.frombuffer(bytearray(raw), dtype=dtype.dtype).reshape(shape, order=order)


_INT_OPS = frozenset((0x4B, 0x4D, 0x4A))


def _int_run(data: bytes, pos: int) -> tuple[list[int], int]:
    """The BININT1/BININT2/BININT values from `pos` on, and the position after them."""
    run: list[int] = []
    append = run.append
    from_bytes = int.from_bytes
    while True:
        op = data[pos]
        if op == 0x4B:
            append(data[pos + 1])
            pos += 2
        elif op == 0x4D:
            append(data[pos + 1] | data[pos + 2] << 8)
            pos += 3
        elif op == 0x4A:
            append(from_bytes(data[pos + 1:pos + 5], "little", signed=True))
            pos += 5
        else:
            return run, pos


def _put(memo: dict[int, Any], key: int, value: Any) -> None:
    memo[key] = value
    if type(value) is _ArrayStub:
        value.keys.append(key)


def _pop_mark(stack: list, marks: list) -> list:
    start = marks.pop()
    items = stack[start:]
    del stack[start:]
    return items


def _line(data: bytes, pos: int) -> tuple[str, int]:
    end = data.index(b"\n", pos)
    return data[pos:end].decode("ascii"), end + 1


def loads(data: bytes) -> Any:
    """The value a pickle stream of plain values and NumPy arrays describes (see the module docstring)."""
    try:
        return _run(bytes(data))
    except (IndexError, struct.error, KeyError, TypeError, ValueError, UnicodeDecodeError) as error:
        if isinstance(error, UnsafePickleError):
            raise
        raise UnsafePickleError(f"the pickle stream is truncated or malformed ({error!r}).") from None


def _run(data: bytes) -> Any:  # noqa: C901 (one dispatch loop keeps the common opcodes fast)
    stack: list = []
    marks: list[int] = []
    memo: dict[int, Any] = {}
    pos = 0
    unpack_i, unpack_h, unpack_d = struct.Struct("<i").unpack_from, struct.Struct("<H").unpack_from, \
        struct.Struct(">d").unpack_from
    push = stack.append
    while True:
        op = data[pos]
        pos += 1
        if op == 0x4B:  # BININT1
            push(data[pos])
            pos += 1
        elif op == 0x4D:  # BININT2
            push(unpack_h(data, pos)[0])
            pos += 2
        elif op == 0x4A:  # BININT
            push(unpack_i(data, pos)[0])
            pos += 4
        elif op == 0x71:  # BINPUT
            _put(memo, data[pos], stack[-1])
            pos += 1
        elif op == 0x72:  # LONG_BINPUT
            _put(memo, unpack_i(data, pos)[0], stack[-1])
            pos += 4
        elif op == 0x94:  # MEMOIZE
            _put(memo, len(memo), stack[-1])
        elif op == 0x28:  # MARK
            if data[pos] in _INT_OPS:  # a batch of list items: the bulk of imdb.npz and reuters.npz
                run, pos = _int_run(data, pos)
                if data[pos] == 0x65 and isinstance(stack[-1], list):  # APPENDS
                    stack[-1].extend(run)
                    pos += 1
                    continue
                marks.append(len(stack))
                stack.extend(run)
            else:
                marks.append(len(stack))
        elif op == 0x5D:  # EMPTY_LIST
            push([])
        elif op == 0x65:  # APPENDS
            items = _pop_mark(stack, marks)
            target = stack[-1]
            if not isinstance(target, list):
                raise UnsafePickleError("APPENDS on something other than a list.")
            target.extend(items)
        elif op == 0x61:  # APPEND
            item = stack.pop()
            if not isinstance(stack[-1], list):
                raise UnsafePickleError("APPEND on something other than a list.")
            stack[-1].append(item)
        elif op == 0x68:  # BINGET
            push(memo[data[pos]])
            pos += 1
        elif op == 0x6A:  # LONG_BINGET
            push(memo[unpack_i(data, pos)[0]])
            pos += 4
        elif op == 0x80:  # PROTO
            pos += 1
        elif op == 0x95:  # FRAME
            pos += 8
        elif op == 0x2E:  # STOP
            if len(stack) != 1 or marks:
                raise UnsafePickleError("the pickle stream ends with an unbalanced stack.")
            return stack[0]
        elif op in (0x55, 0x43):  # SHORT_BINSTRING, SHORT_BINBYTES: bytes (as pickle's encoding="bytes")
            n = data[pos]
            push(data[pos + 1:pos + 1 + n])
            pos += 1 + n
        elif op in (0x54, 0x42):  # BINSTRING, BINBYTES
            n = unpack_i(data, pos)[0]
            if n < 0 or pos + 4 + n > len(data):
                raise UnsafePickleError("a byte string runs past the end of the stream.")
            push(data[pos + 4:pos + 4 + n])
            pos += 4 + n
        elif op == 0x8E:  # BINBYTES8
            n = int.from_bytes(data[pos:pos + 8], "little")
            push(data[pos + 8:pos + 8 + n])
            pos += 8 + n
        elif op == 0x8C:  # SHORT_BINUNICODE
            n = data[pos]
            push(data[pos + 1:pos + 1 + n].decode("utf-8", "surrogatepass"))
            pos += 1 + n
        elif op in (0x58, 0x8D):  # BINUNICODE, BINUNICODE8
            width = 4 if op == 0x58 else 8
            n = int.from_bytes(data[pos:pos + width], "little")
            push(data[pos + width:pos + width + n].decode("utf-8", "surrogatepass"))
            pos += width + n
        elif op == 0x8A:  # LONG1
            n = data[pos]
            push(int.from_bytes(data[pos + 1:pos + 1 + n], "little", signed=True))
            pos += 1 + n
        elif op == 0x47:  # BINFLOAT
            push(unpack_d(data, pos)[0])
            pos += 8
        elif op == 0x4E:  # NONE
            push(None)
        elif op == 0x88:  # NEWTRUE
            push(True)
        elif op == 0x89:  # NEWFALSE
            push(False)
        elif op == 0x29:  # EMPTY_TUPLE
            push(())
        elif op in (0x85, 0x86, 0x87):  # TUPLE1..3
            n = op - 0x84
            items = tuple(stack[-n:])
            del stack[-n:]
            push(items)
        elif op == 0x74:  # TUPLE
            push(tuple(_pop_mark(stack, marks)))
        elif op == 0x6C:  # LIST
            push(_pop_mark(stack, marks))
        elif op == 0x7D:  # EMPTY_DICT
            push({})
        elif op in (0x75, 0x64):  # SETITEMS, DICT
            items = _pop_mark(stack, marks)
            if op == 0x64:
                push({})
            target = stack[-1]
            if not isinstance(target, dict):
                raise UnsafePickleError("SETITEMS on something other than a dict.")
            for i in range(0, len(items) - 1, 2):
                target[_key(items[i])] = items[i + 1]
        elif op == 0x73:  # SETITEM
            value, key = stack.pop(), stack.pop()
            if not isinstance(stack[-1], dict):
                raise UnsafePickleError("SETITEM on something other than a dict.")
            stack[-1][_key(key)] = value
        elif op == 0x63:  # GLOBAL
            module, pos = _line(data, pos)
            name, pos = _line(data, pos)
            push(_global(module, name))
        elif op == 0x93:  # STACK_GLOBAL
            name, module = stack.pop(), stack.pop()
            if not (isinstance(module, str) and isinstance(name, str)):
                raise UnsafePickleError("STACK_GLOBAL with names that are not strings.")
            push(_global(module, name))
        elif op == 0x52:  # REDUCE
            args = stack.pop()
            stack[-1] = _reduce(stack[-1], args)
        elif op == 0x62:  # BUILD
            state = stack.pop()
            stub = stack[-1]
            built = _build(stub, state)
            if built is not stub:
                stack[-1] = built
                for key in stub.keys:
                    if memo.get(key) is stub:
                        memo[key] = built
        elif op in (0x49, 0x4C):  # INT, LONG (text; protocol 0)
            text, pos = _line(data, pos)
            push({"00": False, "01": True}.get(text) if text in ("00", "01") else int(text.rstrip("L")))
        elif op in (0x70, 0x67):  # PUT, GET (text; protocol 0)
            text, pos = _line(data, pos)
            if op == 0x70:
                _put(memo, int(text), stack[-1])
            else:
                push(memo[int(text)])
        else:
            raise UnsafePickleError(f"opcode {bytes([op])!r} at byte {pos - 1} is not one a data set file uses; "
                                    "the stream is not read (the file may be corrupted or tampered with).")


def _key(key: Any) -> Any:
    if not isinstance(key, (str, bytes, int, float, bool, type(None), tuple)):
        raise UnsafePickleError(f"a dict key of type {type(key).__name__} in the stream.")
    return key
