# Installation proactive : herald s'installe par Microsoft Graph pour les membres qui ne l'ont pas.

field-not-yes-no = `{ $value }` n'est ni oui ni non
install-needs-graph = herald s'installe pour les personnes par Microsoft Graph, qui est désactivé ici ([graph] enabled = false) : demandez à votre équipe informatique de l'activer, ou retirez cette ligne
install-yes = oui
install-no = non
campaign-label-install = Installer herald pour les membres qui ne l'ont pas :
installed-by-herald = { $count ->
    [one] herald s'est installé pour { $count } personne qui ne l'avait pas.
   *[other] herald s'est installé pour { $count } personnes qui ne l'avaient pas.
}
installs-refused = Non installés, par raison : { $reasons }
report-installed-by-herald = Installés par herald
form-label-install = Installer herald pour les membres qui ne l'ont pas (par Microsoft Graph)
# Pourquoi herald n'a pas pu installer l'application pour quelqu'un ($kind), avec le statut et
# le code de Graph ($detail) quand il les a.
install-reason = { $kind ->
    [licence] pas de licence Teams
    [blocked] application bloquée par une stratégie
    [user_not_found] utilisateur introuvable
    [disabled] compte désactivé
    [permissions] refusé par Graph ({ $detail }) : vérifiez les autorisations Graph de herald
    [throttled] Graph a limité les appels trop longtemps
    [no_token] pas de jeton Graph pour ce locataire
    [unreachable] Graph injoignable
    [service_url] l'URL de service du locataire n'est pas dans bot.service_url_hosts
    [not_in_catalog] herald n'est pas dans le catalogue d'applications du locataire
    [no_chat] installé, mais Graph n'a pas encore donné la conversation
   *[refused] refusé par Graph ({ $detail })
}
