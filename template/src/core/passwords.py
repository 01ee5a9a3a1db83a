"""Common passwords, which the password policy refuses whatever their length."""

from functools import lru_cache

# zxcvbn ships, in lowercase, the 30,000 passwords found most often in leaked password lists.
# Only that list is used, not zxcvbn's strength estimate.
from zxcvbn.frequency_lists import FREQUENCY_LISTS


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def is_common_password(password: str) -> bool:
    """True when the password, in any letter case, is on the list of common passwords."""
    return password.lower() in common_passwords()
