"""The safe interpreter: turns a Python `ast` tree into a tree of closures, refusing every node, name,
function and attribute that is not explicitly allowed. Checking and compiling are one pass, so what runs is
exactly what was checked. The closures take a runtime `Context` and never touch eval/exec/compile."""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from typing import Any

from app.engine.expressions_functions import (
    ALL_METHOD_NAMES,
    ATTRIBUTES,
    FORBIDDEN_ATTRIBUTES,
    FUNCTIONS,
    INTERNAL_FUNCTIONS,
    METHODS,
    MUTATING_METHODS,
)
from app.engine.expressions_runtime import (
    SIZED_TYPES,
    Context,
    deep_size,
    iterate,
    op_add,
    op_lshift,
    op_mod,
    op_mul,
    op_pow,
    to_text,
)
from app.errors import ExpressionFailed

Fn = Callable[[Context], Any]
Store = Callable[[Context, Any], None]

MAX_DEPTH = 100

BINOPS: dict[type, Callable[[Context, Any, Any], Any]] = {
    ast.Add: op_add,
    ast.Sub: lambda ctx, a, b: ctx.check_int(a - b),
    ast.Mult: op_mul,
    ast.Div: lambda ctx, a, b: a / b,
    ast.FloorDiv: lambda ctx, a, b: a // b,
    ast.Mod: op_mod,
    ast.Pow: op_pow,
    ast.LShift: op_lshift,
    ast.RShift: lambda ctx, a, b: a >> b,
    ast.BitOr: lambda ctx, a, b: ctx.check_result(a | b),
    ast.BitXor: lambda ctx, a, b: ctx.check_result(a ^ b),
    ast.BitAnd: lambda ctx, a, b: a & b,
}
_UNARY: dict[type, Callable[[Any], Any]] = {
    ast.Not: operator.not_,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Invert: operator.invert,
}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_SUBSCRIPTABLE = (list, tuple, str, dict)
_SCANNING = (ast.In, ast.NotIn, ast.Eq, ast.NotEq)
_CONSTANT_TYPES = (int, float, str, bool, type(None))
# Width/precision of at most 4 digits: f"{x:>999999999}" would build a huge string.
_SAFE_SPEC = re.compile(r"^(?:[^\d{}]|\d{1,4}(?!\d))*$")

# What each refused node is called in error messages.
_NODE_NAMES = {
    "Lambda": "lambda",
    "Import": "import",
    "ImportFrom": "import",
    "FunctionDef": "def",
    "AsyncFunctionDef": "def",
    "ClassDef": "class",
    "Global": "global",
    "Nonlocal": "nonlocal",
    "With": "with",
    "AsyncWith": "with",
    "Try": "try",
    "TryStar": "try",
    "While": "while",
    "Raise": "raise",
    "Return": "return",
    "Yield": "yield",
    "YieldFrom": "yield",
    "Await": "await",
    "NamedExpr": "':=' (walrus)",
    "Assert": "assert",
    "Match": "match",
    "AsyncFor": "async for",
    "MatMult": "'@'",
    "Starred": "'*' unpacking",
}


def where(node: ast.AST) -> str:
    line = getattr(node, "lineno", None)
    if line is None:
        return ""
    return f" (line {line}, column {getattr(node, 'col_offset', 0) + 1})"


class Compiler:
    """One compilation of one text. `script` allows statements; `internal` allows the helper functions that
    only JUEL/FEEL translations use; `null_missing` (FEEL) makes unknown names evaluate to null."""

    def __init__(self, text: str, *, script: bool, internal: bool = False) -> None:
        self.text = text
        self.script = script
        self.internal = internal
        self.depth = 0
        self.loops = 0

    def refuse(self, node: ast.AST, what: str) -> ExpressionFailed:
        return ExpressionFailed(f"{what} is not allowed{where(node)}", expression=self.text)

    def forbidden(self, node: ast.AST) -> ExpressionFailed:
        kind = type(node).__name__
        return self.refuse(node, _NODE_NAMES.get(kind, f"'{kind}'"))

    # --- expressions ------------------------------------------------------------------------------------

    def expr(self, node: ast.AST) -> Fn:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionFailed(
                f"expression nested deeper than {MAX_DEPTH} levels{where(node)}", expression=self.text
            )
        try:
            method = getattr(self, "e_" + type(node).__name__, None)
            if method is None:
                raise self.forbidden(node)
            return method(node)
        finally:
            self.depth -= 1

    def e_Constant(self, node: ast.Constant) -> Fn:
        value = node.value
        if type(value) not in _CONSTANT_TYPES:
            raise self.refuse(node, f"a constant of type {type(value).__name__}")
        return lambda ctx: value

    def e_Name(self, node: ast.Name) -> Fn:
        name = node.id
        self.check_name(node, name)

        def load(ctx: Context) -> Any:
            try:
                return ctx.vars[name]
            except KeyError:
                pass
            if ctx.outer is not None and name in ctx.outer:
                return ctx.outer[name]
            if ctx.null_missing:
                return None
            raise ctx.fail(f"name '{name}' is not defined")

        return load

    def check_name(self, node: ast.AST, name: str) -> None:
        if name.startswith("_"):
            raise self.refuse(node, f"the name '{name}' (names starting with '_')")

    def e_BinOp(self, node: ast.BinOp) -> Fn:
        op = BINOPS.get(type(node.op))
        if op is None:
            raise self.forbidden(node.op)
        left, right = self.expr(node.left), self.expr(node.right)
        return lambda ctx: op(ctx, left(ctx), right(ctx))

    def e_UnaryOp(self, node: ast.UnaryOp) -> Fn:
        op = _UNARY[type(node.op)]
        operand = self.expr(node.operand)
        return lambda ctx: op(operand(ctx))

    def e_BoolOp(self, node: ast.BoolOp) -> Fn:
        values = [self.expr(v) for v in node.values]
        if isinstance(node.op, ast.And):

            def and_(ctx: Context) -> Any:
                result = None
                for v in values:
                    result = v(ctx)
                    if not result:
                        return result
                return result

            return and_

        def or_(ctx: Context) -> Any:
            result = None
            for v in values:
                result = v(ctx)
                if result:
                    return result
            return result

        return or_

    def e_Compare(self, node: ast.Compare) -> Fn:
        left = self.expr(node.left)
        pairs = [(_COMPARE[type(op)], self.expr(c)) for op, c in zip(node.ops, node.comparators, strict=True)]
        scans = any(type(op) in _SCANNING for op in node.ops)
        if len(pairs) == 1 and not scans:
            op, right = pairs[0]
            return lambda ctx: op(left(ctx), right(ctx))

        def chain(ctx: Context) -> bool:
            a = left(ctx)
            for op, right in pairs:
                b = right(ctx)
                if scans and type(b) in SIZED_TYPES:
                    ctx.meter.work(len(b))  # `in` / `==` on a large value is work proportional to its size
                if not op(a, b):
                    return False
                a = b
            return True

        return chain

    def e_IfExp(self, node: ast.IfExp) -> Fn:
        test, body, orelse = self.expr(node.test), self.expr(node.body), self.expr(node.orelse)
        return lambda ctx: body(ctx) if test(ctx) else orelse(ctx)

    def e_Subscript(self, node: ast.Subscript) -> Fn:
        value = self.expr(node.value)
        index = self.slice(node.slice)
        slicing = isinstance(node.slice, ast.Slice)

        def subscript(ctx: Context) -> Any:
            obj = value(ctx)
            if type(obj) not in _SUBSCRIPTABLE:
                if obj is None and ctx.null_missing:
                    return None
                raise ctx.fail(f"a value of type {type(obj).__name__} cannot be subscripted")
            if slicing:
                return ctx.check_result(obj[index(ctx)])
            return obj[index(ctx)]

        return subscript

    def slice(self, node: ast.AST) -> Fn:
        if not isinstance(node, ast.Slice):
            return self.expr(node)
        parts = [self.expr(p) if p is not None else None for p in (node.lower, node.upper, node.step)]

        def make(ctx: Context) -> slice:
            return slice(*(p(ctx) if p is not None else None for p in parts))

        return make

    def e_Attribute(self, node: ast.Attribute) -> Fn:
        """`a.b` outside a call: a key of a dict (JUEL/FEEL paths) or a plain date/time field."""
        attr = node.attr
        self.check_attr(node, attr)
        value = self.expr(node.value)

        def attribute(ctx: Context) -> Any:
            obj = value(ctx)
            t = type(obj)
            if t is dict:
                try:
                    return obj[attr]
                except KeyError:
                    if ctx.null_missing:
                        return None
                    raise ctx.fail(f"key '{attr}' not found") from None
            if attr in ATTRIBUTES.get(t, ()):
                return getattr(obj, attr)
            if obj is None and ctx.null_missing:
                return None
            raise ctx.fail(f"attribute '{attr}' of a value of type {t.__name__} is not allowed")

        return attribute

    def check_attr(self, node: ast.AST, attr: str) -> None:
        if attr.startswith("_"):
            raise self.refuse(node, f"the attribute '{attr}' (names starting with '_')")
        if attr in FORBIDDEN_ATTRIBUTES:
            raise self.refuse(node, f"the attribute '{attr}'")

    def e_Call(self, node: ast.Call) -> Fn:
        # Checked left to right, so the first problem in the text is the one reported.
        func = node.func
        if isinstance(func, ast.Name):
            fn = self.function(node, func.id)
        elif isinstance(func, ast.Attribute):
            target = self.expr(func.value)
            name = self.method_name(func)
        else:
            raise self.refuse(node, "calling anything but an allowed function or method")
        args = []
        for a in node.args:
            if isinstance(a, ast.Starred):
                raise self.forbidden(a)
            args.append(self.expr(a))
        kwargs = []
        for k in node.keywords:
            if k.arg is None:
                raise self.refuse(k, "'**' unpacking in a call")
            self.check_name(k, k.arg)
            kwargs.append((k.arg, self.expr(k.value)))

        if isinstance(func, ast.Name):

            def call_function(ctx: Context) -> Any:
                ctx.call_tick()
                return ctx.check_result(fn(ctx, *[a(ctx) for a in args], **{k: v(ctx) for k, v in kwargs}))

            return call_function

        def call_method(ctx: Context) -> Any:
            obj = target(ctx)
            method = METHODS.get(type(obj), {}).get(name)
            if method is None:
                raise ctx.fail(f"method '{name}' of a value of type {type(obj).__name__} is not allowed")
            ctx.call_tick()
            return ctx.check_result(
                method(ctx, obj, *[a(ctx) for a in args], **{k: v(ctx) for k, v in kwargs})
            )

        return call_method

    def function(self, node: ast.AST, name: str) -> Callable[..., Any]:
        fn = FUNCTIONS.get(name)
        if fn is None and self.internal:
            fn = INTERNAL_FUNCTIONS.get(name)
        if fn is None:
            self.check_name(node, name)
            raise self.refuse(node, f"the function '{name}'")
        return fn

    def method_name(self, func: ast.Attribute) -> str:
        name = func.attr
        self.check_attr(func, name)
        if name not in ALL_METHOD_NAMES:
            raise self.refuse(func, f"the method '{name}'")
        if name in MUTATING_METHODS and not self.script:
            raise self.refuse(func, f"the method '{name}' in an expression (it changes data; use a script)")
        return name

    def elements(self, nodes: list[ast.expr]) -> Callable[[Context], list[Any]]:
        parts: list[tuple[bool, Fn]] = []
        for n in nodes:
            if isinstance(n, ast.Starred):
                parts.append((True, self.expr(n.value)))
            else:
                parts.append((False, self.expr(n)))
        if not any(star for star, _ in parts):
            fns = [f for _, f in parts]
            return lambda ctx: [f(ctx) for f in fns]

        def build(ctx: Context) -> list[Any]:
            out: list[Any] = []
            for star, f in parts:
                if star:
                    out.extend(iterate(ctx, f(ctx)))
                    ctx.check_len(len(out))
                    ctx.meter.built_value(len(out))
                else:
                    out.append(f(ctx))
            return out

        return build

    def e_List(self, node: ast.List) -> Fn:
        return self.elements(node.elts)

    def e_Tuple(self, node: ast.Tuple) -> Fn:
        if all(isinstance(e, ast.Constant) for e in node.elts):
            constant = tuple(self.expr(e)(None) for e in node.elts)  # type: ignore[arg-type]
            return lambda ctx: constant  # immutable, so built once: `status in ('new', 'won')`
        build = self.elements(node.elts)
        return lambda ctx: tuple(build(ctx))

    def e_Set(self, node: ast.Set) -> Fn:
        build = self.elements(node.elts)
        return lambda ctx: set(build(ctx))

    def e_Dict(self, node: ast.Dict) -> Fn:
        items = [
            (self.expr(k) if k is not None else None, self.expr(v))
            for k, v in zip(node.keys, node.values, strict=True)
        ]

        def build(ctx: Context) -> dict[Any, Any]:
            out: dict[Any, Any] = {}
            for k, v in items:
                if k is None:
                    merged = v(ctx)
                    if type(merged) is not dict:
                        raise ctx.fail("'**' in a dict display takes a dict")
                    out.update(merged)
                    ctx.check_len(len(out))
                else:
                    out[k(ctx)] = v(ctx)
            return out

        return build

    def e_JoinedStr(self, node: ast.JoinedStr) -> Fn:
        parts = [self.expr(v) for v in node.values]

        def join(ctx: Context) -> str:
            out = "".join([p(ctx) for p in parts])
            ctx.check_len(len(out))
            ctx.meter.built_value(len(out))
            return out

        return join

    def e_FormattedValue(self, node: ast.FormattedValue) -> Fn:
        value = self.expr(node.value)
        spec = ""
        if node.format_spec is not None:
            fs = node.format_spec
            if not (isinstance(fs, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in fs.values)):
                raise self.refuse(node, "a computed format spec")
            spec = "".join(str(v.value) for v in fs.values)  # type: ignore[attr-defined]
            if len(spec) > 100 or not _SAFE_SPEC.match(spec):
                raise self.refuse(node, f"the format spec '{spec}' (widths over 4 digits)")
        conversion = node.conversion

        def fmt(ctx: Context) -> str:
            v = value(ctx)
            if conversion in (ord("r"), ord("a")):
                if deep_size(v, ctx.limits.max_size) > ctx.limits.max_size:
                    raise ctx.too_large()
                v = repr(v) if conversion == ord("r") else ascii(v)
            elif conversion == ord("s") or not spec:
                v = to_text(ctx, v)
            return format(v, spec) if spec else v

        return fmt

    # --- comprehensions -------------------------------------------------------------------------------

    def comp_loops(self, node: ast.AST, generators: list[ast.comprehension]) -> list[_Loop]:
        loops = []
        for gen in generators:
            if gen.is_async:
                raise self.refuse(node, "async comprehension")
            loops.append((self.store(gen.target), self.expr(gen.iter), [self.expr(c) for c in gen.ifs]))
        return loops

    def e_ListComp(self, node: ast.ListComp | ast.GeneratorExp) -> Fn:
        loops, elt = self.comp_loops(node, node.generators), self.expr(node.elt)

        def make(ctx: Context) -> list[Any]:
            out: list[Any] = []

            def emit(c: Context) -> None:
                out.append(elt(c))
                c.check_len(len(out))

            _run_comprehension(ctx, loops, emit)
            ctx.meter.built_value(len(out))
            return out

        return make

    # Generator expressions are built eagerly: `any(x > 1 for x in items)` reads the same, and no generator
    # object (with its gi_frame) ever exists.
    e_GeneratorExp = e_ListComp

    def e_SetComp(self, node: ast.SetComp) -> Fn:
        loops, elt = self.comp_loops(node, node.generators), self.expr(node.elt)

        def make(ctx: Context) -> set[Any]:
            out: set[Any] = set()

            def emit(c: Context) -> None:
                out.add(elt(c))
                c.check_len(len(out))

            _run_comprehension(ctx, loops, emit)
            ctx.meter.built_value(len(out))
            return out

        return make

    def e_DictComp(self, node: ast.DictComp) -> Fn:
        loops, key, value = self.comp_loops(node, node.generators), self.expr(node.key), self.expr(node.value)

        def make(ctx: Context) -> dict[Any, Any]:
            out: dict[Any, Any] = {}

            def emit(c: Context) -> None:
                out[key(c)] = value(c)
                c.check_len(len(out))

            _run_comprehension(ctx, loops, emit)
            ctx.meter.built_value(len(out))
            return out

        return make

    # --- assignment targets ---------------------------------------------------------------------------

    def store(self, node: ast.AST) -> Store:
        if isinstance(node, ast.Name):
            name = node.id
            self.check_name(node, name)

            def set_name(ctx: Context, v: Any) -> None:
                ctx.vars[name] = v

            return set_name
        if isinstance(node, ast.Tuple | ast.List):
            targets = [self.store(t) for t in node.elts]

            def unpack(ctx: Context, v: Any) -> None:
                values = list(iterate(ctx, v))
                if len(values) != len(targets):
                    raise ctx.fail(f"expected {len(targets)} values to unpack, got {len(values)}")
                for t, x in zip(targets, values, strict=True):
                    t(ctx, x)

            return unpack
        if not self.script:
            raise self.refuse(node, "assignment to anything but a name in an expression")
        if isinstance(node, ast.Subscript):
            container, index = self.expr(node.value), self.slice(node.slice)

            def set_item(ctx: Context, v: Any) -> None:
                obj = container(ctx)
                if type(obj) is dict:
                    ctx.check_len(len(obj) + 1)
                elif type(obj) is not list:
                    raise ctx.fail(f"cannot assign into a value of type {type(obj).__name__}")
                obj[index(ctx)] = v
                if type(obj) is list:
                    ctx.check_len(len(obj))

            return set_item
        if isinstance(node, ast.Attribute):
            self.check_attr(node, node.attr)
            container, key = self.expr(node.value), node.attr

            def set_key(ctx: Context, v: Any) -> None:
                obj = container(ctx)
                if type(obj) is not dict:
                    raise ctx.fail(f"cannot set attribute '{key}' on a value of type {type(obj).__name__}")
                ctx.check_len(len(obj) + 1)
                obj[key] = v

            return set_key
        raise self.refuse(node, f"assignment to {type(node).__name__}")


_Loop = tuple[Store, Fn, list[Fn]]


def _run_comprehension(ctx: Context, loops: list[_Loop], emit: Callable[[Context], None]) -> None:
    """Run nested comprehension loops in a scope of their own (the loop names do not leak)."""
    local = ctx.child(dict(ctx.vars))
    last = len(loops) - 1

    def level(i: int) -> None:
        assign, source, conditions = loops[i]
        for item in iterate(local, source(local)):
            local.tick()
            assign(local, item)
            for c in conditions:
                if not c(local):
                    break
            else:
                if i == last:
                    emit(local)
                else:
                    level(i + 1)

    level(0)


def compile_expression(tree: ast.Expression, text: str, *, internal: bool = False) -> Fn:
    return Compiler(text, script=False, internal=internal).expr(tree.body)
