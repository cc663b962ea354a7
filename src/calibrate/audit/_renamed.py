"""Keywords of audit renamed to the kit's names, still accepted under their old names."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])


def renamed_keywords(**old_to_new: str) -> Callable[[_F], _F]:
    """Accept each old keyword as a deprecated alias of its new name: a DeprecationWarning
    naming the new keyword, a TypeError if both are given."""

    def decorate(fun: _F) -> _F:
        where = fun.__qualname__.removesuffix(".__init__")

        @functools.wraps(fun)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(
                            f"{where}() got both {new}= and its deprecated alias {old}=; "
                            f"pass only {new}="
                        )
                    warnings.warn(
                        f"{where}(): {old}= is deprecated; use {new}= (same meaning)",
                        DeprecationWarning,
                        stacklevel=2,
                    )
                    kwargs[new] = kwargs.pop(old)
            return fun(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
