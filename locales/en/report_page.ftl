# The report page (HTML) behind the report card's link.

report-open-page = Open the report page
report-page-title = Report: { $title }
report-page-counts = Counts
report-page-csv = Download the CSV ({ $count ->
    [one] 1 recipient
   *[other] { $count } recipients
})
report-page-controls = Filter the recipients
report-page-filter = Status
report-page-search = Search a name or address
report-page-apply = Apply
report-page-caption = Recipients: { $shown } shown of { $total }
report-page-none = Nobody matches this status and search.
report-page-pages = Pages of the table
report-page-pager = Page { $page } of { $pages }
report-page-previous = Previous page
report-page-next = Next page
report-page-expires = This page's link works until { $at }.

report-page-filter-all = All
report-page-filter-delivered = Delivered
report-page-filter-read = Read
report-page-filter-unread = Not read
report-page-filter-waiting = Waiting
report-page-filter-failed = Failed
report-page-filter-expired = Expired
report-page-filter-not-installed = Not installed
report-page-filter-clicked = Clicked
report-page-filter-acknowledged = Acknowledged

report-page-col-name = Name
report-page-col-email = Address
report-page-col-status = Status
report-page-col-presence = Presence
report-page-col-sent = Delivered (UTC)
report-page-col-read = Read (UTC)
report-page-col-clicks = Clicks
report-page-col-acknowledged = Acknowledged (UTC)
report-page-col-reactions = Reactions
report-page-col-answer = Answer

report-page-status-delivered = delivered
report-page-status-pending = pending
report-page-status-waiting = waiting for presence
report-page-status-expired = expired
report-page-status-not-installed = not installed
report-page-status-failed = failed ({ $reason })

report-page-expired-title = This report link has expired
report-page-expired = Ask herald for the report again (campaign report or broadcast info) to get a new link.
report-page-bad-title = This report address is not right
report-page-bad-status = “{ $value }” is not a status filter. Use one of: { $choices }.
report-page-bad-page = “{ $value }” is not a page number. Use a whole number from 1 up, e.g. page=2.
