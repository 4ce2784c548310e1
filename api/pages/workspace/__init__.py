"""The marketer's workspace: define, edit, start, ramp, stop and archive experiments, paste a
newsletter's counts, and manage metrics, webhooks, keys and the audit log, in the browser.

Every form posts to the same domain code as the API (`experiments/`), so a field error shows
beside its field with the API's own path and rule. The seam to who is logged in is
`api.pages.access`; these modules never check a session themselves.
"""
