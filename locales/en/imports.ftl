# Lists from a file: the answers to `list import <name>` sent with a CSV or Excel file.

import-created = List { $name } created from { $file } with { $count ->
        [one] { $count } member
       *[other] { $count } members
    }.
import-replaced = List { $name } replaced from { $file }: { $count ->
        [one] { $count } member
       *[other] { $count } members
    } now, { $before } before.
import-counts = Accepted: { $accepted } · duplicates: { $duplicates } · invalid: { $invalid }
import-invalid = Not addresses: { $items }
import-invalid-more = …and { $count } more.
import-nothing-changed = Nothing was changed.
import-no-file = Send the file with the command: attach a CSV or Excel (.xlsx) file to your message and write **list import** { $name } as its text.
import-host-not-allowed = The file is stored on { $host }, a host herald does not download from (bot.file_hosts).
import-bad-url = The file's download link is not an https address herald can use.
import-too-large = { $file } is larger than { $limit }, the most herald imports (bot.file_max_bytes). Keep only the address column, or split the file.
import-download-failed = { $file } could not be downloaded ({ $reason }). Send it again in a moment.
import-not-a-table = { $file } is neither a CSV nor an Excel file. Save it as CSV (UTF-8) or Excel (.xlsx) and send it again.
import-bad-workbook = { $file } could not be read as an Excel workbook (damaged or password protected?). Save it again as .xlsx or CSV and send it again.
import-empty = { $file } is empty.
import-no-address-column = { $file } has no column of email addresses. Name the column **email** (or e-mail, UPN, Adresse e-mail, courriel) and send the file again.
import-size = { $count } { $unit ->
        [mib] MiB
        [kib] KiB
       *[bytes] bytes
    }
admin-help-import = To build a list from a file, send a CSV or Excel (.xlsx) file in this chat with **list import** *name* as its message: the email (or UPN) column is found by its header or its content, and the list is created, or replaced when it exists.
