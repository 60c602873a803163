"""What contract SQL resolved to on Spark, checked before anything runs: defence in depth.

`sql_guard.guard_for_spark` judges the SQL's text: names of functions and tables. What a
name *means* is decided by the cluster when Spark analyses the query (a session extension
can register a function under any name; a catalog can change). So on a classic (py4j)
session the engine also walks the **analyzed logical plan** of a custom SQL term after
``spark.sql(text)`` (which analyses, never executes) and before any action, and refuses:

* any expression that is a user function or reaches outside the rows: a class outside
  Spark's own expression package (Hive UDFs, a vendor's or an extension's functions) or one
  of `_REFUSED_EXPRESSIONS` (Scala/Python UDFs and UDAFs, SQL functions, Java reflection,
  file names, who runs the query, the Spark version);
* any relation but the term's **declared views** (temporary views the engine made), Spark's
  generators of rows (``range``, ``VALUES``) and the query's own CTEs: a catalog table, a
  catalog view, a SQL table function (`_REFUSED_NODES`).

Subqueries (scalar, ``IN``, ``EXISTS``, lateral) are walked too. If the plan cannot be read
the term is refused (fail closed). Spark Connect gives the client no analyzed plan: there
the allow-list of `sql_guard` is the boundary (docs/engines.md).
"""

from __future__ import annotations

from typing import Any

from workbench.evidence.errors import SqlRefused

_EXPRESSIONS = "org.apache.spark.sql.catalyst.expressions."
_REFUSED_EXPRESSIONS = frozenset(
    {
        "ScalaUDF",
        "ScalaUDAF",
        "ScalaAggregator",
        "PythonUDF",
        "PythonUDAF",
        "PythonUDTF",
        "UnresolvedPolymorphicPythonUDTF",
        "SQLFunctionExpression",
        "SQLScalarFunction",
        "CallMethodViaReflection",
        "TryReflect",
        "InputFileName",
        "InputFileBlockStart",
        "InputFileBlockLength",
        "CurrentUser",
        "CurrentDatabase",
        "CurrentCatalog",
        "CurrentPath",
        "SparkVersion",
    }
)
# Row sources that read nothing outside the query.
_OWN_LEAVES = frozenset({"OneRowRelation", "LocalRelation", "Range", "CTERelationRef"})
_REFUSED_NODES = frozenset({"SQLFunctionNode", "SQLTableFunction"})
_SUBQUERY = "org.apache.spark.sql.catalyst.expressions.SubqueryExpression"


def refuse_foreign_plan(df: Any, views: set[str]) -> None:
    """Raise `SqlRefused` if the analyzed plan of `df` calls a user function or reads a
    relation that is not one of `views`; nothing on Spark Connect (no plan on the client)."""
    jdf = getattr(df, "_jdf", None)
    if jdf is None:
        return
    type_util = df.sparkSession._jvm.py4j.reflection.TypeUtil  # py4j's own isinstance
    walk = _Walk({v.lower() for v in views}, lambda e: type_util.isInstanceOf(_SUBQUERY, e))
    try:
        plan = jdf.queryExecution().analyzed()
        walk.plan(plan)
    except SqlRefused:
        raise
    except Exception as exc:  # an API this code does not know: fail closed
        raise SqlRefused(
            f"cannot inspect the query plan on this Spark: {str(exc).strip()[:200]}"
        ) from None


class _Walk:
    def __init__(self, views: set[str], is_subquery: Any) -> None:
        self.views = views
        self.is_subquery = is_subquery

    def plan(self, node: Any) -> None:
        cls = node.getClass().getSimpleName()
        if cls == "View":
            name = str(node.desc().identifier().table()).lower()
            if node.isTempView() and name in self.views:
                return  # a declared view: the engine's own read of the evidence files
            raise SqlRefused(f"the query reads view '{name}' of the cluster's catalog")
        if cls in _REFUSED_NODES:
            raise SqlRefused(f"the query calls a SQL function of the catalog ({cls})")
        children = node.children()
        if children.isEmpty() and cls not in _OWN_LEAVES:
            raise SqlRefused(f"the query reads {_relation(node)}, not a declared evidence view")
        expressions = node.expressions().iterator()
        while expressions.hasNext():
            self.expression(expressions.next())
        it = children.iterator()
        while it.hasNext():
            self.plan(it.next())

    def expression(self, expr: Any) -> None:
        name = str(expr.getClass().getName())
        short = name.rsplit(".", 1)[-1]
        if not name.startswith(_EXPRESSIONS) or short in _REFUSED_EXPRESSIONS:
            raise SqlRefused(
                f"the query calls {expr.prettyName()}() ({short}), not one of Spark's built-in "
                "functions that contract SQL may call"
            )
        if self.is_subquery(expr):
            self.plan(expr.plan())
        it = expr.children().iterator()
        while it.hasNext():
            self.expression(it.next())


def _relation(node: Any) -> str:
    """A leaf relation named for the message: its catalog table if it has one."""
    try:
        table = node.catalogTable()
        if table.isDefined():
            return f"table '{table.get().identifier().unquotedString()}'"
    except Exception:  # not a LogicalRelation
        pass
    return f"'{str(node.simpleString(20)).splitlines()[0][:120]}'"
