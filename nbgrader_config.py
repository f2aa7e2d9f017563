"""nbgrader configuration for Python Modules, Hands-On.

Short and declarative. Paths are relative to the course root (this folder);
the `course` tool sets `CourseDirectory.root` explicitly.
"""

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "python-modules-hands-on"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"

# Notebooks write their modules into `_scratch/` (course.lesson.start_lesson).
# Never copy it into release/ or into a submission (design.md trap 1).
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "feedback",
    "_scratch",
]

# What a student sees in place of a solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Per-cell timeout while grading (seconds); a timed-out cell is interrupted
# and the rest of the notebook still runs.
c.Execute.timeout = 30
c.Execute.interrupt_on_timeout = True

# A deleted test cell is put back and graded (design.md trap 10).
c.OverwriteCells.add_missing_cells = True

# Cap stored output (LimitOutput counts lines; `course grade` also caps bytes).
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 60
