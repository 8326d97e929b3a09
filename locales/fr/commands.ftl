# Une commande tapée dans la conversation qui n'a pas pu être lue.

command-unknown = commande inconnue `{ $word }`
command-missing = `{ $command }` demande { $what ->
    [name] un nom
    [page] un numéro de page
    [page-after-name] un numéro de page après le nom
    [action] une action
    [email] un email
    [id] un numéro
   *[other] davantage
}, par exemple `{ $example }`
command-unknown-action = `{ $command }` ne connaît pas `{ $action }` ; utilisez { $command ->
    [list] créer, ajouter, retirer, afficher, importer ou supprimer
    [campaign] créer, modifier, info, essayer, supprimer, rapport, renvoyer ou arrêter
   *[other] aide
}
