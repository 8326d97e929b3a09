# The campaign and broadcast forms (Adaptive Cards).

form-campaign-new-title = New campaign: { $name }
form-campaign-edit-title = Edit campaign: { $name }
form-schedule = Schedule
form-save = Save
form-label-list = List
form-label-start = Start (YYYY-MM-DD HH:MM)
form-label-duration = Duration
form-label-hours = Business hours
form-label-timezone = Time zone
form-label-presence = Presence
form-label-channel = Channel
form-broadcast-title = New broadcast
form-everyone = Everyone (every herald user)
form-label-audience = To
form-label-subject = Subject (what the notification shows)
form-send-now = Send now
form-label-remind = Remind those who have not read it after (for example 24h; empty: no reminder)
form-label-ack = Ask each person to confirm they have read and understood
form-label-choices = Poll: 2 to 6 choices separated by | (empty: no poll)
form-placeholder-choices = Yes | No | Maybe
