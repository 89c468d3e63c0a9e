"""Course-lab exercises for the notebooks, and their grader.

    from sasr_lite.labs import check, exercises
    exercises()                                   # one row per exercise (and each stub's source)
    check("03.self_attention", self_attention)    # prints PASS / FAIL and why; returns a bool

Three kinds of exercise: *implement* (write a function from its stub; it is compared with the
package's own implementation on random inputs, and a wrong answer is matched against known
mistakes), *predict* (work out a number; the check computes it with the package) and
*experiment* (change one setting, measure, explain; only the report's structure is checked).
"""

from sasr_lite.labs.registry import check, exercises

__all__ = ["check", "exercises"]
