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
