"""Python Modules, Hands-On: the course's own tooling.

``course.cli`` is the ``course`` command; one module per pipeline step
(``build``, ``check``, ``record``, ``grade``, ``demo``); ``course.lesson``
holds the helpers that notebooks import at run time. Importing this package
does no work.
"""

__version__ = "0.1.0"
