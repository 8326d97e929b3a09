# Presence kept on the user record: marks in `list show`, warnings when it cannot be applied.

campaign-presence-unheeded-send = Warning: Microsoft Graph is off (graph.enabled), so presence cannot be looked up: this campaign's presence policy will not be applied and everyone will be sent the message anyway, whatever their presence (campaigns.unknown_presence = send).
campaign-presence-unheeded-wait = Warning: Microsoft Graph is off (graph.enabled), so presence cannot be looked up: everyone will be treated as absent, climb the absence ladder and expire without receiving the message (campaigns.unknown_presence = wait).

# The last known presence of a list member (Graph's availability), a mark and a word.
presence-mark = { $availability ->
    [Available] ● available
    [AvailableIdle] ● available, idle
    [Away] ○ away
    [BeRightBack] ○ be right back
    [Busy] ◐ busy
    [BusyIdle] ◐ busy, idle
    [DoNotDisturb] ⊘ do not disturb
    [Offline] ○ offline
   *[other] ? unknown
}
