# Entra ID groups in lists: adding them, showing them, and when Graph cannot resolve them.

lists-line-groups = - { $name } ({ $count ->
        [one] { $count } member
       *[other] { $count } members
    }, { $groups ->
        [one] { $groups } group
       *[other] { $groups } groups
    })
list-created-groups = List { $name } created with { $count ->
        [one] { $count } member
       *[other] { $count } members
    } and { $groups ->
        [one] { $groups } group
       *[other] { $groups } groups
    }.
group-graph-off = Groups need Microsoft Graph: set `enabled = true` in the `[graph]` section of the settings (the app needs the Graph permission `GroupMember.Read.All`) to use { $groups }. Nothing was changed.
group-malformed = Not a group: { $groups }. Write **group:** and the group's object id or mail, e.g. **group:sales@contoso.com**. Nothing was changed.
group-unknown = No such group in your directory: { $groups }. Nothing was changed.
group-lookup-failed = Could not look up { $group }: { $why }. Nothing was changed; try again in a moment.
group-why = { $why ->
        [off] Microsoft Graph is off (`[graph] enabled`)
        [gone] the group no longer exists in Entra ID
        [throttled] Microsoft Graph is busy (throttled)
        [refused] Microsoft Graph refused ({ $detail }); check the app's Graph permissions
       *[unreachable] Microsoft Graph could not be reached
    }
list-groups-head = Groups (members resolved now):
list-group-line = - { $name } ({ $label }): { $members ->
        [one] { $members } member
       *[other] { $members } members
    }, { $installed } installed
list-group-failed = - { $name } ({ $label }): not resolved, { $why }
broadcast-groups-unresolved = Not sent: a broadcast goes to the whole list or not at all, and these groups of it could not be resolved. Try again in a moment.
group-unresolved-line = - { $group }: { $why }
