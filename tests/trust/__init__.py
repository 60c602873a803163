"""Issue 12: each attack that once ended in a false "approved" or "passed", as a regression test named after it."""
