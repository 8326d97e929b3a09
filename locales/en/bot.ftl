# What herald says to everyone: welcome, help, refusals, the audit log.

welcome = Hello! I'm **herald**. Your company uses me to send you its announcements and messages. Type **help** to see what I can do.
welcome-named = Hello { $name }! I'm **herald**. Your company uses me to send you its announcements and messages. Type **help** to see what I can do.
help = **herald** delivers your company's campaigns and broadcasts right in Teams.

    - **help**: this message

    Messages your administrators send you will arrive in this chat. To answer a broadcast, use its **Reply** button or just write here: your message goes to its sender.
# An admin's plain text is read as a command, so only the button answers a broadcast.
help-for-admins = **herald** delivers your company's campaigns and broadcasts right in Teams.

    - **help**: this message

    Messages your administrators send you will arrive in this chat. To answer a broadcast, use its **Reply** button (what you write here is read as a command).
hint = I didn't understand that. Type **help** to see what I can do.
channel-not-served = herald works in Microsoft Teams: find me there.
admin-help = **herald** — admin commands:

    - **lists**: your distribution lists
    - **list create** *name* *emails…*: creates a list
    - **list add** / **remove** *name* *emails…*
    - **list show** *name* [*page*]: members, installed or not, in pages
    - **list delete** *name*
    - **campaigns**: your campaigns and their progress
    - **campaign create** *name*, then one line per field (list:, channel:, start:, duration:, hours:, timezone:, presence:, install: yes to install herald for members who lack it) and **message:** followed by the text
    - **campaign edit** *name* + the fields to change (before the start)
    - **campaign info** / **report** / **delete** *name*
    - **campaign test** *name* *email*: sends the message now to one person
    - **campaign resend** *name*: sends it again, once, to those whose delivery failed and to list members who have installed herald since
    - **broadcast** *list* (or **all**), then **subject:** and the text below it: sends now (**broadcast** alone opens the form). Option lines may come first: **install: yes** installs herald for members who lack it, **remind: 24h** reminds those who have not read it after that long (within business hours), **ack: yes** asks each person to confirm they have read and understood, **choices: Yes | No | Maybe** adds a poll (2 to 6 choices)
    - **broadcasts**: the latest broadcasts, delivered and read
    - **broadcast info** *n°*: the detail, and who has not read it yet
    - **broadcast remind** *n°*: reminds those who have not read it (or not acknowledged it, when asked)
    - **broadcast delete** *n°*: removes it from every chat
    - **broadcast resend** *n°*: sends it again to those whose card failed and to list members who have installed herald since
    - **send: 2026-12-01 09:00** as an option line of **broadcast** schedules it for that time (yours, or **timezone: Europe/Paris**); until then **broadcast edit** *n°* followed by the same lines replaces it, **broadcast delete** *n°* cancels it
    - **audit** [*page*]: the latest admin actions

    Emails can be separated by spaces, commas or new lines.
    A list can also name Entra ID groups among its emails: **group:** followed by the group's mail or object id (nested groups included, resolved at each send; needs Microsoft Graph).
refusal = Sorry, only herald's administrators can use this command. Ask your IT team if you need access.

list-members-head = { $name }: { $installed }/{ $total } installed
list-member-line = { $installed ->
    [yes] - { $email } (installed)
   *[no] - { $email } (not installed)
}
list-page-footer = { $last ->
    [yes] Page { $page } of { $pages }, the last.
   *[no] Page { $page } of { $pages }. Next page: type **list show { $name } { $next }**.
}
list-no-such-page = { $bold } has { $pages } pages of members: type **list show { $name } { $pages }** for the last one.
list-in-use = List { $list } was not deleted: scheduled or running campaigns use it ({ $campaigns }). Edit or delete those campaigns, or wait until they complete.

not-audited = Note: this was done, but it could not be written to the audit log. Tell your IT team.
audit-head = **Audit log** (page { $page }/{ $pages }, latest first):
audit-more = Type **audit { $next }** for more.
audit-empty = { $pages ->
    [0] The audit log is empty.
   *[other] There is no page { $page }: the audit log has { $pages }.
}
