"""Attachment metadata (xAPI 1.0.3 Part Two §2.4.11, IEEE 9274.1.1 §4.2.2.6).

Only the metadata in the statement is validated here; the attachment bodies of a multipart request
are the LRS's business.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from learnsight.xapi.base import XAPIModel
from learnsight.xapi.datatypes import IRI, IRL, ContentType, LanguageMap, Opt, Sha2Hex


class Attachment(XAPIModel):
    """One attachment's metadata: usage type, display, media type, length and SHA-2 digest."""

    usage_type: IRI = Field(alias="usageType")
    display: LanguageMap
    description: Opt[LanguageMap] = None
    content_type: ContentType = Field(alias="contentType")
    length: Annotated[int, Field(ge=0)]
    sha2: Sha2Hex
    file_url: Opt[IRL] = Field(None, alias="fileUrl")
