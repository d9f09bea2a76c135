"""A small evaluator for the subset of Go that test-case tables are written in.

The accuracy harness (accuracy.py) reads other projects' rule and detector tests from their Go
sources. Those tests are mostly string literals, `+` concatenations, slices and struct
literals, `append`, `fmt.Sprintf` over package-level variables, and calls to a few helper
functions. This module tokenises Go (with semicolon insertion), parses expressions and simple
statements into tuples, and evaluates them. Anything it cannot evaluate raises `Unrecoverable`
with a reason; inside a slice or map literal such an element becomes a `Lost` value, so one
computed element does not hide its neighbours and every loss can be counted.

It also generates random strings from a regular expression (`random_from_regex`), built on
Python's own regex parser, for the projects' `NewSecret(<regex>)` calls.
"""

import random
import re
import string
from re import _constants as C
from re import _parser as sre_parse


class Unrecoverable(Exception):
    """An expression this evaluator cannot compute (a call to an unknown function, ...)."""


class Lost:
    """Stands in for a slice/map element that could not be evaluated."""

    def __init__(self, reason):
        self.reason = reason

    def __repr__(self):
        return f"Lost({self.reason})"


# ---------------------------------------------------------------------------------- tokens

OPS = sorted(
    "... := == != <= >= && || ++ -- += -= *= /= <- << >> &^ "
    "+ - * / % & | ^ < > = ! ( ) [ ] { } , ; . : ~".split(),
    key=len, reverse=True)
SEMI_AFTER = {"id", "str", "num", "char"}
SEMI_AFTER_OPS = {")", "]", "}", "++", "--"}
SEMI_AFTER_KW = {"break", "continue", "fallthrough", "return"}
ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, "'": 39, '"': 34}


def decode_go_string(body):
    """The value of an interpreted Go string literal's body (between the quotes)."""
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        e = body[i + 1]
        if e in ESCAPES:
            out.append(ESCAPES[e])
            i += 2
        elif e == "x":
            out.append(int(body[i + 2:i + 4], 16))
            i += 4
        elif e in "uU":
            n = 4 if e == "u" else 8
            out += chr(int(body[i + 2:i + 2 + n], 16)).encode()
            i += 2 + n
        elif e in "01234567":
            out.append(int(body[i + 1:i + 4], 8))
            i += 4
        else:
            raise Unrecoverable(f"bad escape \\{e}")
    return out.decode("utf-8", "surrogateescape")


def _needs_semi(toks):
    if not toks:
        return False
    kind, val = toks[-1][0], toks[-1][1]
    if kind in SEMI_AFTER:
        return kind != "id" or val not in GO_KEYWORDS or val in SEMI_AFTER_KW
    return kind == "op" and val in SEMI_AFTER_OPS


GO_KEYWORDS = set("break case chan const continue default defer else fallthrough for func go goto "
                  "if import interface map package range return select struct switch type var".split())


def tokenize(src):
    """Go tokens as (kind, value) pairs; kinds: id, str, num, char, op (`;` included)."""
    toks = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c == "\n":
            if _needs_semi(toks):
                toks.append(("op", ";"))
            i += 1
        elif c in " \t\r":
            i += 1
        elif src.startswith("//", i):
            i = src.find("\n", i)
            i = n if i < 0 else i
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            if "\n" in src[i:j] and _needs_semi(toks):
                toks.append(("op", ";"))
            i = j
        elif c == "`":
            j = src.index("`", i + 1)
            toks.append(("str", src[i + 1:j].replace("\r", "")))
            i = j + 1
        elif c == '"':
            j = i + 1
            while src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            toks.append(("str", decode_go_string(src[i + 1:j])))
            i = j + 1
        elif c == "'":
            j = i + 1
            while src[j] != "'":
                j += 2 if src[j] == "\\" else 1
            toks.append(("char", decode_go_string(src[i + 1:j])))
            i = j + 1
        elif c.isalpha() or c == "_" or ord(c) > 127:
            m = re.compile(r"[\w]+").match(src, i)
            toks.append(("id", m.group()))
            i = m.end()
        elif c.isdigit() or (c == "." and i + 1 < n and src[i + 1].isdigit()):
            m = re.compile(r"0[xX][0-9a-fA-F_]+|[0-9_]*\.?[0-9_]+(?:[eE][+-]?[0-9]+)?").match(src, i)
            toks.append(("num", m.group()))
            i = m.end()
        else:
            op = next((o for o in OPS if src.startswith(o, i)), None)
            if op is None:
                raise SyntaxError(f"unexpected character {c!r}")
            toks.append(("op", op))
            i += len(op)
    if _needs_semi(toks):
        toks.append(("op", ";"))
    toks.append(("eof", None))
    return toks


# ---------------------------------------------------------------------------------- parser

BINARY = [("||",), ("&&",), ("==", "!=", "<", "<=", ">", ">="), ("+", "-", "|", "^"),
          ("*", "/", "%", "<<", ">>", "&", "&^")]


class Parser:
    """Recursive-descent parser for Go expressions, types and simple statements.

    Expressions become tuples: ("lit", v), ("id", name), ("sel", x, name), ("call", f, args,
    spread), ("index", x, i), ("slice", x, lo, hi), ("bin", op, a, b), ("un", op, x),
    ("comp", type, elems) with elems [(key or None, value)], ("type", text), ("func", params,
    body tokens).
    """

    def __init__(self, toks, pos=0):
        self.t = toks
        self.i = pos
        self.no_comp = 0  # >0 inside if/for/switch headers: `x {` opens the block

    def peek(self, k=0):
        return self.t[min(self.i + k, len(self.t) - 1)]

    def is_op(self, v, k=0):
        tok = self.peek(k)
        return tok[0] == "op" and tok[1] == v

    def next(self):
        tok = self.t[self.i]
        self.i += 1
        return tok

    def expect(self, v):
        tok = self.next()
        if tok[1] != v:
            raise SyntaxError(f"expected {v!r}, got {tok[1]!r}")
        return tok

    def skip_balanced(self):
        """Skips from an opening bracket to just past its partner."""
        pairs = {"(": ")", "[": "]", "{": "}"}
        stack = [pairs[self.next()[1]]]
        while stack:
            kind, val = self.next()
            if kind == "eof":
                raise SyntaxError("unbalanced brackets")
            if kind == "op" and val in pairs:
                stack.append(pairs[val])
            elif kind == "op" and val == stack[-1]:
                stack.pop()

    # types ------------------------------------------------------------------------------

    def parse_type(self):
        start = self.i
        kind, val = self.peek()
        if self.is_op("["):
            self.next()
            if not self.is_op("]"):
                self.parse_expr()
            self.expect("]")
            self.parse_type()
        elif self.is_op("*"):
            self.next()
            self.parse_type()
        elif val == "map":
            self.next()
            self.expect("[")
            self.parse_type()
            self.expect("]")
            self.parse_type()
        elif val in ("struct", "interface"):
            self.next()
            self.skip_balanced()
        elif val == "func":
            self.next()
            self.skip_balanced()
            self.parse_result()
        elif val == "chan":
            self.next()
            self.parse_type()
        elif kind == "id":
            self.next()
            while self.is_op(".") and self.peek(1)[0] == "id":
                self.i += 2
            if self.is_op("["):  # generic instantiation
                self.skip_balanced()
        elif self.is_op("("):
            self.skip_balanced()
        else:
            raise SyntaxError(f"not a type: {val!r}")
        return ("type", " ".join(str(t[1]) for t in self.t[start:self.i]))

    def parse_result(self):
        if self.is_op("("):
            self.skip_balanced()
        elif not self.is_op("{") and not self.is_op(";") and not self.is_op(",") and not self.is_op(")"):
            self.parse_type()

    # expressions ------------------------------------------------------------------------

    def parse_expr(self, level=0):
        if level == len(BINARY):
            return self.parse_unary()
        x = self.parse_expr(level + 1)
        while self.peek()[0] == "op" and self.peek()[1] in BINARY[level]:
            op = self.next()[1]
            x = ("bin", op, x, self.parse_expr(level + 1))
        return x

    def parse_unary(self):
        if self.peek()[0] == "op" and self.peek()[1] in ("-", "+", "!", "^", "*", "&", "<-"):
            op = self.next()[1]
            return ("un", op, self.parse_unary())
        return self.parse_primary()

    def parse_operand(self):
        kind, val = self.peek()
        if kind in ("str", "char"):
            self.next()
            return ("lit", val)
        if kind == "num":
            self.next()
            v = val.replace("_", "")
            return ("lit", int(v, 0) if re.fullmatch(r"0[xX][0-9a-fA-F]+|[0-9]+", v) else float(v))
        if val == "func" and kind == "id":
            self.next()
            params = self.params()
            self.parse_result()
            start = self.i
            self.skip_balanced()
            return ("func", params, (start + 1, self.i - 1))
        if kind == "id" and val not in ("map", "struct", "interface", "chan"):
            self.next()
            return ("id", val)
        if self.is_op("("):
            self.next()
            self.no_comp, saved = 0, self.no_comp
            x = self.parse_expr()
            self.no_comp = saved
            self.expect(")")
            return x
        if self.is_op("[") or val in ("map", "struct", "interface", "chan"):
            return self.parse_type()
        raise SyntaxError(f"unexpected {val!r}")

    def parse_primary(self):
        x = self.parse_operand()
        while True:
            if self.is_op("."):
                self.next()
                if self.is_op("("):  # type assertion
                    self.skip_balanced()
                    continue
                x = ("sel", x, self.next()[1])
            elif self.is_op("("):
                x = self.parse_call(x)
            elif self.is_op("["):
                x = self.parse_index(x)
            elif self.is_op("{") and self.can_compose(x):
                x = ("comp", x, self.parse_elements())
            else:
                return x

    def can_compose(self, x):
        if x[0] == "type":
            return True
        return self.no_comp == 0 and x[0] in ("id", "sel")

    def parse_call(self, f):
        self.expect("(")
        self.no_comp, saved = 0, self.no_comp
        args, spread = [], False
        while not self.is_op(")"):
            args.append(self.parse_type_or_expr())
            if self.is_op("..."):
                self.next()
                spread = True
            if not self.is_op(")"):
                self.expect(",")
        self.next()
        self.no_comp = saved
        return ("call", f, args, spread)

    def parse_type_or_expr(self):
        save = self.i
        try:
            return self.parse_expr()
        except SyntaxError:
            self.i = save
            return self.parse_type()

    def parse_index(self, x):
        self.expect("[")
        self.no_comp, saved = 0, self.no_comp
        lo = hi = None
        if not self.is_op(":"):
            lo = self.parse_expr()
        if self.is_op(":"):
            self.next()
            if not self.is_op("]"):
                hi = self.parse_expr()
            self.expect("]")
            self.no_comp = saved
            return ("slice", x, lo, hi)
        while self.is_op(","):  # generic instantiation with several type arguments
            self.next()
            self.parse_type_or_expr()
        self.expect("]")
        self.no_comp = saved
        return ("index", x, lo)

    def parse_elements(self):
        self.expect("{")
        self.no_comp, saved = 0, self.no_comp
        elems = []
        while not self.is_op("}"):
            v = self.parse_element()
            key = None
            if self.is_op(":"):
                self.next()
                key, v = v, self.parse_element()
            elems.append((key, v))
            if not self.is_op("}"):
                self.expect(",") if not self.is_op(";") else self.next()
        self.next()
        self.no_comp = saved
        return elems

    def parse_element(self):
        if self.is_op("{"):
            return ("comp", None, self.parse_elements())
        return self.parse_expr()

    def params(self):
        """Parameter names of a (params) list; the parser stands on `(`."""
        start = self.i
        self.skip_balanced()
        inner = self.t[start + 1:self.i - 1]
        names, depth, part = [], 0, []
        for tok in inner + [("op", ",")]:
            if tok[0] == "op" and tok[1] in "([{":
                depth += 1
            elif tok[0] == "op" and tok[1] in ")]}":
                depth -= 1
            if depth == 0 and tok == ("op", ","):
                if part and part[0][0] == "id":
                    names.append(part[0][1])
                part = []
            else:
                part.append(tok)
        return names

    def parse_expr_list(self):
        xs = [self.parse_expr()]
        while self.is_op(","):
            self.next()
            xs.append(self.parse_expr())
        return xs


# ---------------------------------------------------------------------------------- package

class Package:
    """Top-level declarations of one Go package: variables, constants and functions."""

    def __init__(self):
        self.decls = {}  # name -> expression node (evaluated lazily)
        self.funcs = {}  # name -> (params, toks, (body start, body end))
        self.values = {}
        self.evaluating = set()

    def add_source(self, src):
        toks = tokenize(src)
        p = Parser(toks)
        while p.peek()[0] != "eof":
            kind, val = p.peek()
            if val in ("var", "const"):
                p.next()
                self.parse_specs(p, self.decls)
            elif val == "func":
                self.parse_func(p, toks)
            else:
                self.skip_decl(p)
        return toks

    @staticmethod
    def skip_decl(p):
        while not p.is_op(";") and p.peek()[0] != "eof":
            if p.peek()[0] == "op" and p.peek()[1] in "([{":
                p.skip_balanced()
            else:
                p.next()
        if p.is_op(";"):
            p.next()

    @staticmethod
    def parse_specs(p, into):
        """`var`/`const` declarations: a single spec or a parenthesised group."""
        group = p.is_op("(")
        if group:
            p.next()
        iota_prev = None
        while True:
            if group and p.is_op(")"):
                p.next()
                break
            if p.is_op(";"):
                p.next()
                if not group:
                    break
                continue
            names = [p.next()[1]]
            while p.is_op(","):
                p.next()
                names.append(p.next()[1])
            if not p.is_op("=") and not p.is_op(";") and not p.is_op(")"):
                p.parse_type()
            values = None
            if p.is_op("="):
                p.next()
                values = p.parse_expr_list()
                iota_prev = values
            elif iota_prev is not None:
                values = [("lost", "iota")] * len(names)
            else:
                values = [("lit", None)] * len(names)  # the zero value; nil for slices
            for k, name in enumerate(names):
                if values is not None and k < len(values):
                    into[name] = values[k]
            if not group:
                if p.is_op(";"):
                    p.next()
                break

    def parse_func(self, p, toks):
        p.next()
        if p.is_op("("):  # a method: not callable by plain name
            p.skip_balanced()
            name = None
            p.next()
        else:
            name = p.next()[1]
        if p.is_op("["):
            p.skip_balanced()
        params = p.params()
        p.parse_result()
        if not p.is_op("{"):
            self.skip_decl(p)
            return
        start = p.i
        p.skip_balanced()
        if name:
            self.funcs[name] = (params, toks, (start + 1, p.i - 1))

    def lookup(self, name):
        if name in self.values:
            return self.values[name]
        if name not in self.decls:
            raise Unrecoverable(f"unknown identifier {name}")
        if name in self.evaluating:
            raise Unrecoverable(f"recursive definition of {name}")
        self.evaluating.add(name)
        try:
            v = Evaluator(self).eval(self.decls[name], {})
        finally:
            self.evaluating.discard(name)
        self.values[name] = v
        return v


# ---------------------------------------------------------------------------------- evaluator

class Evaluator:
    """Evaluates expression nodes; `builtins` maps dotted call names to Python functions."""

    builtins = {}

    def __init__(self, package, rng=None, hooks=None, imports=None):
        self.pkg = package
        self.rng = rng or random.Random(1)
        self.hooks = hooks or {}
        self.imports = imports or {}  # package name -> Package, for `name.Func(...)` calls
        self.depth = 0

    def eval(self, node, env):
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "lost":
            raise Unrecoverable(node[1])
        if kind == "id":
            return self.ident(node[1], env)
        if kind == "bin":
            return self.binary(node[1], self.eval(node[2], env), self.eval(node[3], env))
        if kind == "un":
            v = self.eval(node[2], env)
            if node[1] == "-" and isinstance(v, (int, float)):
                return -v
            if node[1] in ("&", "+"):
                return v
            raise Unrecoverable(f"unary {node[1]}")
        if kind == "comp":
            return self.composite(node, env)
        if kind == "call":
            return self.call(node, env)
        if kind == "sel":
            return self.select(node, env)
        if kind in ("index", "slice"):
            return self.index(node, env)
        raise Unrecoverable(f"cannot evaluate {kind}")

    def ident(self, name, env):
        if name in env:
            v = env[name]
            if isinstance(v, Lost):
                raise Unrecoverable(v.reason)
            return v
        if name in ("nil", "true", "false"):
            return {"nil": None, "true": True, "false": False}[name]
        return self.pkg.lookup(name)

    @staticmethod
    def binary(op, a, b):
        if op == "+" and (isinstance(a, str) and isinstance(b, str) or
                          isinstance(a, (int, float)) and isinstance(b, (int, float))):
            return a + b
        if op in ("-", "*", "/", "%") and isinstance(a, int) and isinstance(b, int):
            return {"-": a - b, "*": a * b, "/": a // b if b else 0, "%": a % b if b else 0}[op]
        if op in ("==", "!="):
            return (a == b) == (op == "==")
        raise Unrecoverable(f"operator {op} on {type(a).__name__}")

    def select(self, node, env):
        name = dotted(node)
        if name and name in self.builtins:
            raise Unrecoverable(f"function value {name}")
        base = self.eval(node[1], env)
        if isinstance(base, dict):
            v = base.get(node[2])  # a field not set holds its zero value
            if isinstance(v, Lost):
                raise Unrecoverable(v.reason)
            return v
        raise Unrecoverable(f"field {name or node[2]}")

    def index(self, node, env):
        x = self.eval(node[1], env)
        if node[0] == "index":
            i = self.eval(node[2], env)
            try:
                v = x[i]
            except (KeyError, IndexError, TypeError) as e:
                raise Unrecoverable(f"index: {e}") from None
            if isinstance(v, Lost):
                raise Unrecoverable(v.reason)
            return v
        lo = self.eval(node[2], env) if node[2] else None
        hi = self.eval(node[3], env) if node[3] else None
        if not isinstance(x, (str, list)):
            raise Unrecoverable("slice of a non-sequence")
        return x[lo:hi]

    def composite(self, node, env):
        typ = node[1]
        tname = typ[1] if typ and typ[0] == "type" else (dotted(typ) if typ else "")
        is_map = tname.startswith("map") if tname else False
        is_list = tname.startswith("[") if tname else False
        elems = node[2]
        keyed = all(k is not None for k, _ in elems) and elems
        if is_list or (not tname and not keyed):
            return [self.guarded(v, env) for _, v in elems]
        out = {}
        for k, v in elems:
            if is_map:
                try:
                    key = self.eval(k, env)
                except Unrecoverable as e:
                    key = Lost(str(e))
            else:
                key = k[1] if k and k[0] == "id" else str(k)
            if isinstance(key, Lost):
                out[f"<lost key {len(out)}>"] = Lost(key.reason)
            else:
                out[key] = self.guarded(v, env)
        return out

    def guarded(self, node, env):
        try:
            return self.eval(node, env)
        except Unrecoverable as e:
            return Lost(str(e))
        except RecursionError:
            return Lost("too deep")

    def call(self, node, env):
        f, args, spread = node[1], node[2], node[3]
        name = dotted(f) if f[0] in ("id", "sel") else None
        if f[0] == "type":  # conversion: []byte(s), string(b)
            return self.eval(args[0], env)
        if name in self.hooks:
            return self.hooks[name](self, args, env)
        if name == "append":
            return self.append(args, spread, env)
        if name in ("string", "byte", "rune", "int", "int64", "float64", "len") and len(args) == 1:
            v = self.eval(args[0], env)
            return len(v) if name == "len" else v
        vals = [self.eval(a, env) for a in args]
        name = ALIASES.get(name, name)
        if name in self.builtins:
            try:
                return self.builtins[name](self, *vals)
            except (TypeError, ValueError, IndexError, KeyError, re.error) as e:
                raise Unrecoverable(f"{name}: {e}") from None
        if name and name in self.pkg.funcs:
            return self.user_func(name, vals)
        prefix, _, fn = (name or "").rpartition(".")
        if prefix in self.imports and fn in self.imports[prefix].funcs:
            ev = Evaluator(self.imports[prefix], self.rng, self.hooks, self.imports)
            ev.depth = self.depth
            return ev.user_func(fn, vals)
        raise Unrecoverable(f"call to {name or 'a computed function'}")

    def append(self, args, spread, env):
        try:
            base = self.eval(args[0], env)
        except Unrecoverable as e:
            base = [Lost(str(e))]
        base = [] if base is None else base
        if not isinstance(base, list):
            raise Unrecoverable("append to a non-slice")
        out = list(base)
        if spread:
            for a in args[1:]:
                try:
                    v = self.eval(a, env)
                    out.extend(v if isinstance(v, list) else [Lost("spread of a non-slice")])
                except Unrecoverable as e:
                    out.append(Lost(str(e)))
        else:
            out.extend(self.guarded(a, env) for a in args[1:])
        return out

    def user_func(self, name, vals):
        """A package function whose body is statements ending in `return EXPR`."""
        params, toks, (start, end) = self.pkg.funcs[name]
        if self.depth > 20:
            raise Unrecoverable("call depth")
        env = dict(zip(params, vals))
        self.depth += 1
        try:
            result = run_block(self, toks, start, end, env)
        finally:
            self.depth -= 1
        if result is None:
            raise Unrecoverable(f"{name}() has no plain return")
        return result


def dotted(node):
    if node is None:
        return None
    if node[0] == "id":
        return node[1]
    if node[0] == "sel":
        base = dotted(node[1])
        return f"{base}.{node[2]}" if base else None
    return None


# ---------------------------------------------------------------------------------- statements

def run_block(ev, toks, start, end, env):
    """Executes the statements of toks[start:end] once, straight through.

    Assignments and declarations update env; if/for/switch bodies run once in the same env
    (their headers are skipped); other statements are evaluated for their hooks' effects.
    Returns the value of the first `return EXPR` reached at this level, else None.
    """
    p = Parser(toks[:end] + [("eof", None)], start)
    while p.peek()[0] != "eof":
        try:
            result = statement(ev, p, env)
        except (SyntaxError, IndexError, ValueError):
            recover(p)
            continue
        if result is not None:
            return result
    return None


def recover(p):
    """After a parse error, moves to the next statement at the current nesting level."""
    depth = 0
    while p.peek()[0] != "eof":
        kind, val = p.next()
        if kind != "op":
            continue
        if val in "([{":
            depth += 1
        elif val in ")]}":
            depth -= 1
            if depth < 0:
                return
        elif val == ";" and depth <= 0:
            return


def statement(ev, p, env):
    kind, val = p.peek()
    if p.is_op(";"):
        p.next()
        return None
    if p.is_op("{"):
        return block(ev, p, env)
    if kind == "id" and val in ("var", "const"):
        p.next()
        decls = {}
        Package.parse_specs(p, decls)
        for name, node in decls.items():
            env[name] = ev.guarded(node, env)
        return None
    if kind == "id" and val == "return":
        p.next()
        if p.is_op(";") or p.is_op("}") or p.peek()[0] == "eof":
            return None
        xs = p.parse_expr_list()
        vals = [ev.guarded(x, env) for x in xs]
        v = vals[0]
        return None if isinstance(v, Lost) else v
    if kind == "id" and val in ("if", "for", "switch", "select", "else", "go", "defer"):
        return control(ev, p, env)
    if kind == "id" and val in ("type", "break", "continue", "goto", "fallthrough", "case", "default"):
        recover_line(p)
        return None
    simple(ev, p, env)
    return None


def recover_line(p):
    while not p.is_op(";") and p.peek()[0] != "eof":
        if p.is_op("{"):
            p.skip_balanced()
        else:
            p.next()


def block(ev, p, env):
    start = p.i
    p.skip_balanced()
    return run_block(ev, p.t, start + 1, p.i - 1, env)


def control(ev, p, env):
    """if/for/switch/else: skip the header, run the body once; a `for ... range X` over a
    value that evaluates runs once per element with the loop variables bound."""
    word = p.next()[1]
    if word in ("go", "defer"):
        simple(ev, p, env)
        return None
    if word == "else" and p.peek()[1] == "if":
        p.next()
    head = p.i
    p.no_comp += 1
    try:
        while not p.is_op("{") and p.peek()[0] != "eof":
            if p.is_op("[") or p.peek()[1] in ("map", "struct"):
                p.parse_type()  # a composite literal's type: its elements follow
                if p.is_op("{"):
                    p.skip_balanced()
            elif p.is_op("("):
                p.skip_balanced()
            elif p.peek()[1] == "func":
                p.parse_operand()
            else:
                p.next()
    finally:
        p.no_comp -= 1
    if word in ("switch", "select"):
        p.skip_balanced()  # case clauses are not executed
        return None
    loop = range_loop(ev, p.t[head:p.i], env) if word == "for" else None
    if loop is None:
        return block(ev, p, env)
    start = p.i
    p.skip_balanced()
    names, items = loop
    for pair in items[:10000]:
        for name, v in zip(names, pair):
            if name != "_":
                env[name] = v
        run_block(ev, p.t, start + 1, p.i - 1, env)
    return None


def range_loop(ev, header, env):
    """([key name, value name], [(key, value), ...]) of `k, v := range X`, or None."""
    ids = [t for t in header]
    if ("id", "range") not in ids:
        return None
    r = ids.index(("id", "range"))
    names = [t[1] for t in ids[:r] if t[0] == "id"]
    q = Parser(ids[r + 1:] + [("eof", None)])
    q.no_comp = 1
    try:
        v = ev.eval(q.parse_expr(), env)
    except (Unrecoverable, SyntaxError, IndexError):
        return None
    if isinstance(v, dict):
        items = sorted(v.items(), key=lambda kv: str(kv[0]))
    elif isinstance(v, (list, str)):
        items = list(enumerate(v))
    elif isinstance(v, int):
        items = [(i, i) for i in range(v)]
    else:
        return None
    return names, items


def simple(ev, p, env):
    lhs = p.parse_expr_list()
    if p.peek()[0] == "op" and p.peek()[1] in (":=", "=", "+="):
        op = p.next()[1]
        if p.peek()[1] == "range":
            recover_line(p)
            return
        rhs = p.parse_expr_list()
        vals = [ev.guarded(x, env) for x in rhs]
        if len(vals) == 1 and len(lhs) > 1:
            vals = vals + [Lost("multiple results")] * (len(lhs) - 1)
        for target, v in zip(lhs, vals):
            if op == "+=":
                try:
                    v = ev.binary("+", ev.eval(target, env), v) if not isinstance(v, Lost) else v
                except Unrecoverable as e:
                    v = Lost(str(e))
            assign(ev, target, v, env)
    elif p.peek()[0] == "op" and p.peek()[1] in ("++", "--"):
        p.next()
    else:
        for x in lhs:
            ev.guarded(x, env)
    if p.is_op(";"):
        p.next()


def assign(ev, target, v, env):
    if target[0] == "id":
        if target[1] != "_":
            env[target[1]] = v
    elif target[0] == "sel" and target[1][0] == "id":
        base = env.get(target[1][1])
        if isinstance(base, dict):
            base[target[2]] = v


# ---------------------------------------------------------------------------------- builtins

def go_sprintf(ev, fmt, *args):
    """fmt.Sprintf for the verbs test tables use: %s %d %v %q %x %%."""
    out, k = [], 0
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        m = re.compile(r"%([-+# 0]*)(\d*)(?:\.(\d+))?([a-zA-Z%])").match(fmt, i)
        if not m:
            raise Unrecoverable("bad format")
        verb = m.group(4)
        i = m.end()
        if verb == "%":
            out.append("%")
            continue
        if k >= len(args):
            raise Unrecoverable("Sprintf: missing argument")
        a = args[k]
        k += 1
        if isinstance(a, (list, dict)):
            raise Unrecoverable("Sprintf of a composite")
        if verb == "q":
            out.append('"' + str(a).replace("\\", "\\\\").replace('"', '\\"') + '"')
        elif verb == "x":
            out.append(a.encode().hex() if isinstance(a, str) else format(a, "x"))
        else:
            s = str(a) if not isinstance(a, bool) else str(a).lower()
            out.append(s.rjust(int(m.group(2))) if m.group(2) else s)
    return "".join(out)


def _int_base(n, base):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    sign, n, out = "-" if n < 0 else "", abs(n), ""
    while True:
        n, r = divmod(n, base)
        out = digits[r] + out
        if not n:
            return sign + out


def _b64(alphabet_fn, pad=True):
    import base64

    def enc(ev, s):
        b = s.encode("utf-8", "surrogateescape") if isinstance(s, str) else bytes(s)
        out = alphabet_fn(b).decode()
        return out if pad else out.rstrip("=")
    return enc


ALIASES = {f"b64.{k}": f"base64.{k}" for k in (
    "StdEncoding.EncodeToString", "URLEncoding.EncodeToString",
    "RawStdEncoding.EncodeToString", "RawURLEncoding.EncodeToString")}

Evaluator.builtins.update({
    "strconv.FormatInt": lambda ev, n, base: _int_base(n, base),
    "fmt.Sprintf": go_sprintf,
    "fmt.Sprint": lambda ev, *a: "".join(str(x) for x in a),
    "strings.Repeat": lambda ev, s, n: s * n,
    "strings.ToUpper": lambda ev, s: s.upper(),
    "strings.ToLower": lambda ev, s: s.lower(),
    "strings.Join": lambda ev, xs, sep: sep.join(str(x) for x in xs if not isinstance(x, Lost)),
    "strings.TrimSpace": lambda ev, s: s.strip(),
    "strings.ReplaceAll": lambda ev, s, a, b: s.replace(a, b),
    "strconv.Itoa": lambda ev, n: str(n),
    "strconv.Quote": lambda ev, s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"',
    "base64.StdEncoding.EncodeToString": _b64(__import__("base64").b64encode),
    "base64.URLEncoding.EncodeToString": _b64(__import__("base64").urlsafe_b64encode),
    "base64.RawStdEncoding.EncodeToString": _b64(__import__("base64").b64encode, pad=False),
    "base64.RawURLEncoding.EncodeToString": _b64(__import__("base64").urlsafe_b64encode, pad=False),
    "hex.EncodeToString": lambda ev, s: s.encode("utf-8", "surrogateescape").hex(),
})


# ---------------------------------------------------------------------------------- regex

ALNUM = string.ascii_letters + string.digits
PRINTABLE = [chr(c) for c in range(33, 127)]
CATEGORY_CHARS = {
    C.CATEGORY_DIGIT: string.digits,
    C.CATEGORY_WORD: ALNUM + "_",
    C.CATEGORY_SPACE: " ",
    C.CATEGORY_NOT_DIGIT: string.ascii_letters,
    C.CATEGORY_NOT_WORD: "-.:/+=",
    C.CATEGORY_NOT_SPACE: ALNUM,
}
POSIX = {"alnum": "a-zA-Z0-9", "alpha": "a-zA-Z", "digit": "0-9", "xdigit": "0-9a-fA-F",
         "upper": "A-Z", "lower": "a-z", "word": r"\w", "space": r"\s", "punct": r"!-/:-@\[-`{-~"}


def go_regex_to_python(rx):
    """Rewrites the Go (RE2) syntax Python's parser lacks; raises Unrecoverable on \\p."""
    if re.search(r"\\[pP]", rx):
        raise Unrecoverable("regex with Unicode classes")
    rx = re.sub(r"\[:(\w+):\]", lambda m: POSIX.get(m.group(1), m.group(0)), rx)
    rx = rx.replace(r"\z", r"\Z")
    # Python accepts global flags only at the start; generation ignores case anyway.
    return re.sub(r"\(\?[imsU]+\)", "", rx)


def random_from_regex(rx, rng, limit=1):
    """A random string matching `rx`, drawn as lucasjones/reggen's Generate(limit) does (the
    projects call it with limit 1): a bounded repeat {m,n} gives m copies plus a random number
    up to min(n, limit) - m, so {32,64} gives 32; `*` gives 0..limit, `+` 1..limit, `?` 0..1,
    {m,} exactly m. Under (?i) letters drawn from classes get a random case. Where reggen draws
    any printable character (`.`, negated classes), this draws letters and digits."""
    try:
        parsed = sre_parse.parse(go_regex_to_python(rx))
    except re.error as e:
        raise Unrecoverable(f"regex: {e}") from None
    out = []
    _gen(parsed, rng, out, limit, "(?i" in rx)
    return "".join(out)


def _class_chars(items):
    chars, negate = [], False
    for op, av in items:
        if op == C.NEGATE:
            negate = True
        elif op == C.LITERAL:
            chars.append(chr(av))
        elif op == C.RANGE:
            chars.extend(chr(c) for c in range(av[0], min(av[1], 0x2FF) + 1))
        elif op == C.CATEGORY:
            chars.extend(CATEGORY_CHARS.get(av, ""))
    if negate:
        excluded = set(chars)
        return [c for c in ALNUM if c not in excluded] or [c for c in PRINTABLE if c not in excluded]
    return chars


def _repeat_count(lo, hi, rng, limit):
    if hi == C.MAXREPEAT:
        return rng.randint(0, limit) if lo == 0 else rng.randint(1, limit) if lo == 1 else lo
    top = min(hi, limit)
    return lo + (rng.randint(0, top - lo) if top > lo else 0)


def _pick(chars, rng, fold):
    c = rng.choice(chars)
    return c.swapcase() if fold and c.isalpha() and rng.random() < 0.5 else c


def _gen(parsed, rng, out, limit, fold):
    for op, av in parsed:
        if op == C.LITERAL:
            out.append(chr(av))
        elif op == C.NOT_LITERAL:
            out.append(rng.choice([c for c in ALNUM if ord(c) != av]))
        elif op == C.ANY:
            out.append(rng.choice(ALNUM))
        elif op == C.IN:
            chars = _class_chars(av)
            if not chars:
                raise Unrecoverable("empty character class")
            out.append(_pick(chars, rng, fold))
        elif op == C.CATEGORY:
            out.append(_pick(CATEGORY_CHARS.get(av, ALNUM), rng, fold))
        elif op == C.BRANCH:
            _gen(rng.choice(av[1]), rng, out, limit, fold)
        elif op == C.SUBPATTERN:
            _gen(av[3], rng, out, limit, fold)
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            lo, hi, sub = av
            for _ in range(_repeat_count(lo, hi, rng, limit)):
                _gen(sub, rng, out, limit, fold)
        elif op == C.ATOMIC_GROUP:
            _gen(av, rng, out, limit, fold)
        elif op in (C.AT, C.ASSERT, C.ASSERT_NOT):
            continue
        else:
            raise Unrecoverable(f"regex construct {op}")
