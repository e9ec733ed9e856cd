"""Evidence: every published source StepBack uses, with its full reference and what it decides.

Built from the reference tables' own source columns and the model's source
table (:func:`assessment.sources.sources`, :func:`models.card.source_rows`),
so it lists exactly what the product rests on.
"""

from __future__ import annotations

import streamlit as st

from assessment.sources import sources
from models.card import source_rows

from .common import md_escape


def model_uses() -> list[tuple[str, str]]:
    """The fall-risk model's sources as (source cell, what it decides) pairs."""
    return [(r["source"], f"fall-risk model: {r['quantity']} ({r['value']}) — {r['used_for']}") for r in source_rows()]


def render() -> None:
    """The Evidence page."""
    st.title("Evidence")
    st.write("Every published source StepBack uses, how it was read, and what it decides here. Sources read from "
             "their abstract only are marked wherever they decide something. The 3MBW discriminates fallers only "
             "modestly (published AUC 0.65–0.75), and the fall-risk model has not been validated prospectively.")
    found, unmatched = sources(model_uses())
    st.caption(f"{len(found)} sources, {sum(len(s.uses) for s in found)} decisions. Open a source to see what it "
               "decides.")
    for s in found:
        flag = " — read from the abstract only" if s.abstract_only else ""
        with st.expander(f"{s.citation}{flag}"):
            st.caption(f"How it was read: {s.access}. Decides {len(s.uses)} thing(s) here.")
            st.markdown("\n".join(f"- {md_escape(use)}" for use in s.uses))
    if unmatched:
        st.subheader("Other evidence rows")
        st.markdown("\n".join(f"- {md_escape(cell)}: {md_escape(what)}" for cell, what in unmatched))
