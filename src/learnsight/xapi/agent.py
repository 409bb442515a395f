"""Agents and Groups (xAPI 1.0.3 Part Two §2.4.2, IEEE 9274.1.1 §4.2.2.1).

An Agent is identified by **exactly one** inverse functional identifier (IFI): ``mbox``,
``mbox_sha1sum``, ``openid`` or ``account``.  A Group is *identified* (exactly one IFI, members
optional) or *anonymous* (no IFI, a non-empty ``member`` array).  Members are Agents only.

:meth:`Agent.key` and :meth:`Group.key` give the canonical actor key of
:mod:`learnsight.xapi.keys`, the join key of every table in the store.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, Tag, model_validator

from learnsight.xapi import keys
from learnsight.xapi.base import XAPIModel
from learnsight.xapi.datatypes import IRL, URI, MailtoIRI, Opt, Sha1Hex
from learnsight.xapi.paths import violations
from learnsight.xapi.unions import ACTOR_AGENT, ACTOR_GROUP

IFI_NAMES = ("mbox", "mbox_sha1sum", "openid", "account")


class Account(XAPIModel):
    """A user account on an existing system (``homePage`` IRL and the ``name`` used there)."""

    home_page: IRL = Field(alias="homePage")
    name: str


class _Identified(XAPIModel):
    """Properties shared by Agents and Groups: a display name and the four IFIs."""

    name: Opt[str] = None
    mbox: Opt[MailtoIRI] = None
    mbox_sha1sum: Opt[Sha1Hex] = None
    openid: Opt[URI] = None
    account: Opt[Account] = None

    def ifis(self) -> list[str]:
        """Names of the IFIs present, in xAPI order."""
        found = []
        if self.mbox is not None:
            found.append("mbox")
        if self.mbox_sha1sum is not None:
            found.append("mbox_sha1sum")
        if self.openid is not None:
            found.append("openid")
        if self.account is not None:
            found.append("account")
        return found

    def ifi_key(self) -> str | None:
        """Actor key of the IFI, or ``None`` when there is none (anonymous group)."""
        if self.mbox is not None:
            return keys.mbox_key(self.mbox)
        if self.mbox_sha1sum is not None:
            return keys.mbox_sha1sum_key(self.mbox_sha1sum)
        if self.openid is not None:
            return keys.openid_key(self.openid)
        if self.account is not None:
            return keys.account_key(self.account.home_page, self.account.name)
        return None


class Agent(_Identified):
    """One person or system, identified by exactly one IFI."""

    object_type: Opt[Literal["Agent"]] = Field(None, alias="objectType")

    @model_validator(mode="after")
    def _exactly_one_ifi(self) -> Self:
        if self.mbox is None and self.mbox_sha1sum is None and self.openid is None:
            if self.account is None:
                raise violations(
                    [((), "ifi", "an Agent needs one of mbox, mbox_sha1sum, openid, account", None)]
                )
            return self
        found = self.ifis()
        if len(found) > 1:
            raise violations(
                [
                    (
                        (found[1],),
                        "ifi",
                        f"an Agent has exactly one inverse functional identifier; found {', '.join(found)}",
                        None,
                    )
                ]
            )
        return self

    def key(self) -> str:
        """The canonical actor key (:mod:`learnsight.xapi.keys`)."""
        key = self.ifi_key()
        assert key is not None  # guaranteed by validation
        return key


class Group(_Identified):
    """A Group: identified (one IFI) or anonymous (members only)."""

    object_type: Literal["Group"] = Field(alias="objectType")
    member: Opt[list[Agent]] = None

    @model_validator(mode="after")
    def _identified_or_anonymous(self) -> Self:
        found = self.ifis()
        if len(found) > 1:
            raise violations(
                [
                    (
                        (found[1],),
                        "ifi",
                        "an identified Group has exactly one inverse functional identifier; "
                        f"found {', '.join(found)}",
                        None,
                    )
                ]
            )
        if not found and not self.member:
            raise violations(
                [
                    (
                        ("member",),
                        "anonymous_group",
                        "an anonymous Group (no mbox, mbox_sha1sum, openid or account) must list its members",
                        None,
                    )
                ]
            )
        return self

    @property
    def is_anonymous(self) -> bool:
        """True when the Group has no IFI."""
        return self.ifi_key() is None

    def key(self) -> str:
        """Actor key: ``group:<ifi key>``, or a digest of the member keys for anonymous groups."""
        ifi = self.ifi_key()
        if ifi is not None:
            return keys.group_key(ifi)
        return keys.anonymous_group_key([m.key() for m in self.member or ()])


class AgentObject(Agent):
    """An Agent as a statement's object, where ``objectType`` ``"Agent"`` is required."""

    object_type: Literal["Agent"] = Field(alias="objectType")


Actor = Annotated[
    Annotated[Agent, Tag(ACTOR_AGENT)] | Annotated[Group, Tag(ACTOR_GROUP)],
    Field(union_mode="left_to_right"),
]
"""An Agent or a Group (``objectType`` ``"Group"``), e.g. a statement's ``actor``."""


def check_authority(value: Agent | Group) -> Agent | Group:
    """An ``authority`` is an Agent, or an anonymous two-member Group (OAuth consumer + user)."""
    if isinstance(value, Group):
        if not value.is_anonymous:
            raise violations(
                [((), "authority", "an authority Group must be anonymous (OAuth: client and user)", None)]
            )
        if len(value.member or ()) != 2:
            raise violations(
                [(("member",), "authority", "an authority Group must have exactly two members", None)]
            )
    return value
