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
