# Lists of recipients: the answers to the list commands.

lists-none = No lists yet.
lists-line = - { $name } ({ $count ->
        [one] { $count } member
       *[other] { $count } members
    })
list-created = List { $name } created with { $count ->
        [one] { $count } member
       *[other] { $count } members
    }.
list-name-taken = A list named { $name } already exists.
list-added = { $count } added to { $name } (now { $total }).
list-removed = { $count } removed from { $name } (now { $total }).
list-ignored = Ignored (not emails, groups or Skype ids): { $items }
list-unknown = There is no list named { $name }. Type **lists** to see them.
list-deleted = List { $name } deleted.
