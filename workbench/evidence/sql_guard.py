"""Contract SQL for another engine: one read-only SELECT over the declared evidence, or nothing.

Contract SQL (custom ``sql`` terms) is written in DuckDB's dialect and is untrusted. On the
DuckDB engine `sandbox.guard_read_only` refuses anything but one read-only SELECT, and the
sandbox's lockdown is the real boundary. Another engine (Spark) has no such lockdown: a
cluster can read whatever its service account can, and Spark SQL can call Java
(``reflect``). So before contract SQL reaches it, `guard_for_spark` applies

1. the DuckDB guard itself (`guard_read_only`: the same rule, the same messages, the same
   hostile cases refused: `tests/evidence/hostile_sql.py`);
2. a sqlglot parse of the statement: exactly one query (SELECT, UNION, …); no DDL, DML,
   command or setting anywhere in the tree; every table it reads is a **declared view** of
   the term (or a CTE it defines itself, where SQL's scoping makes that name mean the CTE:
   `ctes_in_scope`), never a qualified name (``db.table``), a path or a
   table function other than the generators; and every function it calls is **one of
   Spark's own built-ins that compute over their arguments only**, unqualified: an
   allow-list (`spark_functions.SPARK_FUNCTIONS`), never a session's or the catalog's
   function (a registered UDF, a Hive UDF, ``db.f(x)``) and never a built-in that reaches
   the JVM, the file system, the cluster or who runs it (``reflect``, ``input_file_name``,
   ``version``, ``from_protobuf`` …: `spark_functions.REFUSED_FUNCTIONS`). On the DuckDB
   tree a function sqlglot does not know (``exp.Anonymous``) must be such a built-in or one
   the transpiler rewrites (``isfinite``); on the Spark tree, the name Spark will resolve;
3. the transpiled Spark SQL parsed again and held to rule 2, so nothing the transpiler
   writes can widen what runs.

On a classic (py4j) session the engine then walks the analyzed plan before any action
(`engines/spark_plan.py`): what the names resolved to, not what they look like.

Returns the Spark SQL to run, or raises `SqlRefused` naming what was refused.
"""

from __future__ import annotations

import re

from sqlglot import exp

from workbench.evidence.errors import SqlRefused
from workbench.evidence.spark_functions import (
    BARE_REFUSED,
    REFUSED_FUNCTIONS,
    TRANSPILED,
    refusal,
)

# Table functions that generate rows (no I/O).
GENERATORS = frozenset({"range", "generate_series", "unnest", "explode", "sequence"})
_WRITES = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.Command,
    exp.Set,
    exp.Pragma,
    exp.Use,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Copy,
    exp.Cache,
    exp.Uncache,
    exp.Refresh,
    exp.LoadData,
    exp.Describe,
    exp.Show,
)


def guard_for_spark(sql: str, views: set[str]) -> str:
    """The Spark SQL of `sql` if it is one read-only SELECT over `views`, else `SqlRefused`."""
    import sqlglot

    from workbench.evidence.engines.spark_sql import NotTranspilable, parse_duckdb, spark_sql_of
    from workbench.evidence.sandbox import guard_read_only

    text = guard_read_only(sql)
    try:
        tree = parse_duckdb(text)
    except NotTranspilable as exc:
        raise SqlRefused(f"not a statement the Spark engine can check: {exc}") from None
    check_tree(tree, views, "duckdb")
    try:
        spark_sql = spark_sql_of(tree)
    except NotTranspilable as exc:
        raise SqlRefused(f"cannot run on Spark: {exc}") from None
    try:
        again = sqlglot.parse(spark_sql, read="spark")
    except sqlglot.errors.ParseError as exc:  # pragma: no cover - our own output
        raise SqlRefused(f"transpiled SQL does not parse: {exc}") from None
    if len(again) != 1 or again[0] is None:  # pragma: no cover - our own output
        raise SqlRefused("transpiled SQL is not one statement")
    check_tree(again[0], views, "spark")
    return spark_sql


def check_tree(tree: exp.Expr, views: set[str], dialect: str) -> None:
    """Rule 2 of the module doc over a statement parsed in `dialect` (duckdb or spark)."""
    if not isinstance(tree, exp.Query):
        raise SqlRefused(
            f"{type(tree).__name__.upper()} statement; only a single read-only SELECT is allowed"
        )
    for node in tree.walk():
        if isinstance(node, _WRITES):
            raise SqlRefused(
                f"{type(node).__name__.upper()} inside the query; only a read-only SELECT is allowed"
            )
        check_call(node, dialect)
    allowed = {v.lower() for v in views}
    for table in tree.find_all(exp.Table):
        if isinstance(table.this, exp.Func) or not isinstance(table.this, exp.Identifier):
            name = _function_name(table.this) if isinstance(table.this, exp.Func) else "?"
            if name in GENERATORS:
                continue
            raise SqlRefused(
                f"table function {name}() is not allowed; query the declared evidence views"
            )
        if table.args.get("db") or table.args.get("catalog"):
            raise SqlRefused(
                f"'{table.sql('duckdb')}' is not a declared evidence view "
                f"(declared: {', '.join(sorted(allowed)) or 'none'})"
            )
        name = table.name.lower()
        if name in allowed or name in ctes_in_scope(table):
            continue
        raise SqlRefused(
            f"table '{table.name}' is not a declared evidence view of this term "
            f"(declared: {', '.join(sorted(allowed)) or 'none'})"
        )


def ctes_in_scope(table: exp.Expr) -> set[str]:
    """The CTE names a table reference can mean, as SQL scopes them (lower case).

    A CTE is visible in the body of the query whose WITH defines it and in that WITH's
    *later* CTEs (and in itself under WITH RECURSIVE); never in its own definition otherwise
    (a non-recursive CTE that names itself reads the catalog table of that name), in an
    earlier CTE, or outside the subquery that defines it. Anywhere else the engine resolves the name
    against its catalog: a table of the cluster the term never declared."""
    visible: set[str] = set()
    child, node = table, table.parent
    while node is not None:
        if isinstance(node, exp.With):
            names = [cte.alias_or_name.lower() for cte in node.expressions]
            at = next((i for i, cte in enumerate(node.expressions) if cte is child), len(names))
            # WITH RECURSIVE: a CTE may name itself too (never a later one: engines differ)
            visible.update(names[: at + 1 if node.args.get("recursive") else at])
        elif isinstance(node, exp.Query):
            with_ = node.args.get("with_")
            if isinstance(with_, exp.With) and with_ is not child:
                visible.update(cte.alias_or_name.lower() for cte in with_.expressions)
        child, node = node, node.parent
    return visible


def check_call(node: exp.Expr, dialect: str) -> None:
    """Refuse `node` if it calls anything but an allowed Spark built-in (rule 2)."""
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
        called = f"{node.this.sql(dialect)}.{_call_name(node.expression, dialect)}"
        raise SqlRefused(
            f"qualified function {called}() is not allowed; contract SQL may call only "
            "Spark's built-in functions, unqualified"
        )
    if isinstance(node, exp.Column) and not node.table and node.name.lower() in BARE_REFUSED:
        name = node.name.lower()
        raise SqlRefused(
            f"'{name}' without a table is Spark's {name}() when no column has that name, "
            f"which {REFUSED_FUNCTIONS[name]}; qualify the column (view.{name})"
        )
    if not isinstance(node, exp.Func):
        return
    name = _call_name(node, dialect)
    if not name:  # syntax (CASE, IS NULL, a[1] …), not a function looked up by name
        return
    if dialect == "duckdb" and (
        name in TRANSPILED
        or (not isinstance(node, exp.Anonymous) and name not in REFUSED_FUNCTIONS)
    ):
        # The transpiler rewrites it, or sqlglot knows it and writes it in Spark's spelling:
        # the transpiled tree is checked by that name. Refused built-ins are named early.
        return
    why = refusal(name)
    if why is not None:
        raise SqlRefused(why)


_CALL = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(\(|$)")


def _call_name(node: exp.Expr, dialect: str) -> str:
    """The name the engine resolves for the call `node` (lower case), or "" for syntax.

    An unknown function is its name; a function sqlglot knows is looked up by the name it
    is written with in `dialect` (``quantile_cont`` is ``percentile`` on Spark)."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    if dialect == "duckdb" and isinstance(node, exp.Func):
        return node.sql_name().lower()
    match = _CALL.match(node.sql(dialect))
    return match.group(1).lower() if match else ""


def _function_name(node: exp.Expr) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return ""
