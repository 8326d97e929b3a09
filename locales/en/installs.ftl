# Proactive install: herald installs itself through Microsoft Graph for members who lack it.

field-not-yes-no = `{ $value }` is neither yes nor no
install-needs-graph = herald installs itself for people through Microsoft Graph, which is off here ([graph] enabled = false): ask your IT team to turn it on, or leave this out
install-yes = yes
install-no = no
campaign-label-install = Install herald for members who lack it:
installed-by-herald = { $count ->
    [one] herald installed itself for { $count } person who lacked it.
   *[other] herald installed itself for { $count } people who lacked it.
}
installs-refused = Not installed, by reason: { $reasons }
report-installed-by-herald = Installed by herald
form-label-install = Install herald for members who lack it (through Microsoft Graph)
# Why herald could not install the app for someone ($kind), with Graph's status and code
# ($detail) where it has them.
install-reason = { $kind ->
    [licence] no Teams licence
    [blocked] app blocked by policy
    [user_not_found] user not found
    [disabled] account disabled
    [permissions] refused by Graph ({ $detail }): check herald's Graph permissions
    [throttled] Graph kept throttling
    [no_token] no Graph token for the tenant
    [unreachable] Graph unreachable
    [service_url] the tenant's service URL is not in bot.service_url_hosts
    [not_in_catalog] herald is not in the tenant's app catalog
    [no_chat] installed, but Graph did not give the chat yet
   *[refused] refused by Graph ({ $detail })
}
