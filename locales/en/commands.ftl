# A command typed in the chat that could not be read.

command-unknown = unknown command `{ $word }`
command-missing = `{ $command }` needs { $what ->
    [name] a name
    [page] a page number
    [page-after-name] a page number after the name
    [action] an action
    [email] an email
    [id] an id
   *[other] more
}, for example `{ $example }`
command-unknown-action = `{ $command }` does not know `{ $action }`; use { $command ->
    [list] create, add, remove, show, import or delete
    [campaign] create, edit, info, test, delete, report, resend or stop
   *[other] help
}
