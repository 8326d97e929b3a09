# Each person's own time (`time: local`): start, window and business hours in each recipient's zone.

localtime-field-not-a-mode = `{ $value }` is neither local nor campaign
localtime-label = Time:
localtime-local = local (each person's own time zone)
localtime-campaign = the campaign's time zone
localtime-form-label = Whose time the start, window and hours follow
localtime-fallbacks = { $count ->
    [one] { $count } person's time zone was not known: the campaign's ({ $zone }) was used.
   *[other] { $count } people's time zone was not known: the campaign's ({ $zone }) was used.
}
localtime-planned-from = Planned from { $when } ({ $zone }), when the first recipients' day may begin: from then on it can no longer be edited.
localtime-report-fallbacks = Campaign's zone used (zone unknown)
admin-help-localtime = **time: local** in a campaign makes its start, window and business hours apply in each person's own time zone (the one their Teams client reports, else their mailbox's through Microsoft Graph, else the campaign's); **time: campaign** switches back.
