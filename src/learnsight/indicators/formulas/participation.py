"""Forum participation ``C = (p + a + r) / q`` of one student in one course (SPEC §2.3).

``p`` the student's posts (threads started), ``a`` the student's replies, ``r`` the followers of the
student's threads, ``q`` all posts in the course forum.  Replies are posts, so the student's own
posts and replies are part of ``q`` (``p + a <= q``); followers are not posts, so ``C`` can exceed 1
for a student whose threads draw a crowd.
"""

from __future__ import annotations

from learnsight.indicators.formulas._checks import check_at_most, check_count


def participation(posts: int, replies: int, followers: int, forum_posts: int) -> float | None:
    """Participation ``C = (p + a + r) / q`` (SPEC §2.3); larger is more active.

    Parameters
    ----------
    posts
        ``p``: threads the student started in the course forum (count).
    replies
        ``a``: replies the student wrote (count).
    followers
        ``r``: followers of the student's threads, summed over the threads (count).
    forum_posts
        ``q``: every post in the course forum, threads and replies, by anyone (count).

    Returns
    -------
    float | None
        ``C >= 0`` (dimensionless), or ``None`` when ``q = 0``: a course without a forum or with a
        silent one has no participation to measure — missing, not zero.

    Raises
    ------
    IndicatorInputError
        (a ``ValueError``) naming the argument when a count is negative or not an integer, or when
        ``posts + replies`` exceeds ``forum_posts``.

    Examples
    --------
    3 threads, 5 replies and 4 followers in a forum of 160 posts: ``C = 12 / 160``.

    >>> participation(3, 5, 4, 160)
    0.075
    >>> participation(0, 0, 0, 0) is None
    True
    """
    p = check_count("posts", posts)
    a = check_count("replies", replies)
    r = check_count("followers", followers)
    q = check_count("forum_posts", forum_posts)
    check_at_most("posts + replies", p + a, "forum_posts", q)
    if q == 0:
        return None
    return (p + a + r) / q
