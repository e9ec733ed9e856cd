"""StepBack's Streamlit entry point: page config, sign-in, navigation.

Every page needs a signed-in account (:mod:`ui.signin`, checked against
:mod:`records.accounts`). The first run, with no administrator yet, asks for
the first administrator instead. Idle sessions end after
``$STEPBACK_SESSION_TIMEOUT_MINUTES`` (default 15). Administrators also see
the Admin and Audit pages; other users never have them in their navigation.
"""

import streamlit as st

from records import accounts
from ui import signin
from ui.common import md_escape, tablet_layout
from ui.resources import NAME_KEY, ROLE_KEY, database, is_admin, start_preload

st.set_page_config(page_title="StepBack", page_icon="🦶", layout="wide")
tablet_layout()  # touch-sized controls on every page; the sidebar collapsed below 1200 px
# The model and reference tables load once per process, in the background, while the first visitor signs in.
start_preload()

username = signin.current_user()
if username is None:
    if accounts.has_admin(database()):
        page = st.Page(signin.sign_in_page, title="Sign in", icon=":material/login:")
    else:
        page = st.Page(signin.first_run_page, title="Create the first administrator", icon=":material/person_add:")
    st.navigation([page], position="hidden").run()
else:
    with st.sidebar:
        role = st.session_state.get(ROLE_KEY)
        name = st.session_state.get(NAME_KEY) or username
        st.caption(f"Signed in as {md_escape(name)} ({md_escape(username)}, {role})")
        if st.button("Sign out", key="sign_out", icon=":material/logout:"):
            signin.sign_out("You are signed out (in every tab).", everywhere=True)
            st.rerun()
        signin.idle_watch()
    clinical = [
        st.Page("ui/pages/patients.py", title="Patients", icon=":material/groups:", default=True),
        st.Page("ui/pages/new_assessment.py", title="New assessment", icon=":material/directions_walk:"),
        st.Page("ui/pages/result.py", title="Result", icon=":material/assignment:"),
        st.Page("ui/pages/history.py", title="History", icon=":material/timeline:"),
        st.Page("ui/pages/clinic.py", title="Clinic", icon=":material/local_hospital:"),
        st.Page("ui/pages/model.py", title="Model", icon=":material/analytics:"),
        st.Page("ui/pages/evidence.py", title="Evidence", icon=":material/menu_book:"),
        st.Page("ui/pages/exchange.py", title="Data", icon=":material/swap_horiz:", url_path="data"),
    ]
    pages = {"Clinic": clinical}
    if is_admin():
        pages["Administration"] = [
            st.Page("ui/pages/admin.py", title="Admin", icon=":material/manage_accounts:"),
            st.Page("ui/pages/audit.py", title="Audit", icon=":material/fact_check:"),
        ]
    st.navigation(pages).run()
