"""StepBack's Streamlit entry point: page config, clinician sign-in, navigation.

Pages live in ``ui/`` (one small script per page in ``ui/pages/``). Until
the accounts issue lands, the clinician is picked on first run
(``records.services.ensure_clinician``) and remembered in session state only.
"""

import streamlit as st

from assessment.errors import InputError
from records import services
from ui.resources import CLINICIAN_KEY, database

st.set_page_config(page_title="StepBack", page_icon="🦶", layout="wide")


def sign_in() -> None:
    """Pick (or create) the clinician using this browser session."""
    st.title("StepBack")
    st.write("Fall-risk screening with the 3-meter backward walk test.")
    with st.form("sign_in"):
        username = st.text_input("Your username", key="signin_username", placeholder="e.g. jdoe")
        display = st.text_input("Your name as printed on reports (first time only)", key="signin_display")
        if st.form_submit_button("Continue", type="primary"):
            try:
                clinician = services.ensure_clinician(database(), username, display or None)
            except InputError as exc:
                st.error(f"**{exc.field}**: {exc.message}")
            else:
                st.session_state[CLINICIAN_KEY] = clinician.username
                st.session_state["clinician_name"] = clinician.display_name
                st.session_state["clinician_role"] = clinician.role
                st.rerun()


if not st.session_state.get(CLINICIAN_KEY):
    st.navigation([st.Page(sign_in, title="Sign in")], position="hidden").run()
else:
    with st.sidebar:
        st.caption(f"Signed in as {st.session_state.get('clinician_name') or st.session_state[CLINICIAN_KEY]}")
        if st.button("Sign out", key="sign_out"):
            st.session_state.clear()
            st.rerun()
    pages = [
        st.Page("ui/pages/patients.py", title="Patients", icon=":material/groups:", default=True),
        st.Page("ui/pages/new_assessment.py", title="New assessment", icon=":material/directions_walk:"),
        st.Page("ui/pages/result.py", title="Result", icon=":material/assignment:"),
        st.Page("ui/pages/history.py", title="History", icon=":material/timeline:"),
        st.Page("ui/pages/clinic.py", title="Clinic", icon=":material/local_hospital:"),
        st.Page("ui/pages/model.py", title="Model", icon=":material/analytics:"),
    ]
    st.navigation(pages).run()
