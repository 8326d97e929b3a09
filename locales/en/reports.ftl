# Report cards: campaign reports (and the parts broadcast reports share).

report-title = Report for { $name } ({ $status })
report-progress = { $bar } ({ $done }/{ $total } delivered)
report-chart-alt = Deliveries and clicks over time
report-download-csv = Download CSV
report-tracking-off = Link tracking is off (server.public_url is not set): no chart or export.
report-waiting-next-attempt = { $waiting } (next attempt { $at })
report-targeted = Targeted
report-not-installed = Not installed
report-planned = Planned
report-delivered = Delivered
report-waiting = Waiting for presence
report-expired = Expired
report-failed = Failed
report-clicked = Clicked (people)
report-clicks = Clicks
report-read = Read (read receipts)
