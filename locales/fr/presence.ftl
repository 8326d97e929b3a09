# Présence gardée sur la fiche de l'utilisateur : marques de `list show`, avertissements quand elle ne peut pas s'appliquer.

campaign-presence-unheeded-send = Attention : Microsoft Graph est désactivé (graph.enabled), la présence ne peut donc pas être consultée : la règle de présence de cette campagne ne s'appliquera pas et tout le monde recevra le message quelle que soit sa présence (campaigns.unknown_presence = send).
campaign-presence-unheeded-wait = Attention : Microsoft Graph est désactivé (graph.enabled), la présence ne peut donc pas être consultée : tout le monde sera considéré comme absent, passera par l'échelle d'absence puis expirera sans recevoir le message (campaigns.unknown_presence = wait).

# La dernière présence connue d'un membre de liste (disponibilité selon Graph), une marque et un mot.
presence-mark = { $availability ->
    [Available] ● disponible
    [AvailableIdle] ● disponible, inactif
    [Away] ○ absent
    [BeRightBack] ○ bientôt de retour
    [Busy] ◐ occupé
    [BusyIdle] ◐ occupé, inactif
    [DoNotDisturb] ⊘ ne pas déranger
    [Offline] ○ hors ligne
   *[other] ? inconnue
}
