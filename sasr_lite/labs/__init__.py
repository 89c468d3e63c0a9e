"""Course-lab exercises for the notebooks, and their grader.

    from sasr_lite.labs import check, exercises
    exercises()                                   # one row per exercise (and each stub's source)
    check("03.self_attention", self_attention)    # prints PASS / FAIL and why; returns a bool

Three kinds of exercise: *implement* (write a function from its stub; it is compared with the
package's own implementation on random inputs, and a wrong answer is matched against known
mistakes), *predict* (work out a number; the check computes it with the package) and
*experiment* (change one setting, measure, explain; the numbers are checked against the run
folders the report names, `experiment`).

Where each part runs: the answer in a forked child of the student's process (`sandbox`, with
the package's functions blocked by `guard`); the inputs and the verdict in a process that never
ran the student's code (`judge`). `check` is the student's self-check (`selfcheck`); `grade`
is the instructor's `sasr-lite grade` over collected notebooks (docs/instructor.md).
"""

from sasr_lite.labs.registry import check, exercises

__all__ = ["check", "exercises"]
