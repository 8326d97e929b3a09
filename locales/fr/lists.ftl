# Listes de destinataires : les réponses aux commandes de liste.

lists-none = Aucune liste pour l'instant.
lists-line = - { $name } ({ $count ->
        [one] { $count } membre
       *[other] { $count } membres
    })
list-created = Liste { $name } créée avec { $count ->
        [one] { $count } membre
       *[other] { $count } membres
    }.
list-name-taken = Une liste nommée { $name } existe déjà.
list-added = { $count } { $count ->
        [one] ajouté
       *[other] ajoutés
    } à { $name } (maintenant { $total }).
list-removed = { $count } { $count ->
        [one] retiré
       *[other] retirés
    } de { $name } (maintenant { $total }).
list-ignored = Ignorés (ni emails, ni groupes, ni identifiants Skype) : { $items }
list-unknown = Il n'y a pas de liste nommée { $name }. Tapez **listes** pour les voir.
list-deleted = Liste { $name } supprimée.
