"""StepBack's Streamlit entry point: page config, clinician, navigation.

The clinic app (issue #5) replaces this placeholder page; until then it
opens (and migrates) the embedded database and says where it lives.
"""

import streamlit as st

from records.db import open_database

st.set_page_config(page_title="StepBack", page_icon="🦶", layout="wide")


@st.cache_resource
def database():
    """One engine per server process (read-only shared state)."""
    return open_database()


def home() -> None:
    db = database()
    st.title("StepBack")
    st.write("Fall-risk screening with the 3-meter backward walk test.")
    st.info(
        "The clinic app is being built. Until it lands, use the `stepback` command "
        "(see README) to score walks, add patients and record assessments."
    )
    st.caption(f"Database: {db.safe_url if hasattr(db, 'safe_url') else 'configured'}")


st.navigation([st.Page(home, title="Home", default=True)]).run()
