"""The Streamlit dashboard (``mstad dashboard``) and the plotly charts it draws.

Needs the ``dashboard`` extra (streamlit, plotly). The app reads run folders only.
"""
