# Groupes Entra ID dans les listes : les ajouter, les afficher, et quand Graph ne peut pas les résoudre.

lists-line-groups = - { $name } ({ $count ->
        [one] { $count } membre
       *[other] { $count } membres
    }, { $groups ->
        [one] { $groups } groupe
       *[other] { $groups } groupes
    })
list-created-groups = Liste { $name } créée avec { $count ->
        [one] { $count } membre
       *[other] { $count } membres
    } et { $groups ->
        [one] { $groups } groupe
       *[other] { $groups } groupes
    }.
group-graph-off = Les groupes passent par Microsoft Graph : mettez `enabled = true` dans la section `[graph]` des réglages (l'application a besoin de la permission Graph `GroupMember.Read.All`) pour utiliser { $groups }. Rien n'a été modifié.
group-malformed = Ce n'est pas un groupe : { $groups }. Écrivez **groupe:** suivi de l'identifiant d'objet ou de l'adresse du groupe, par exemple **groupe:ventes@contoso.com**. Rien n'a été modifié.
group-unknown = Groupe introuvable dans votre annuaire : { $groups }. Rien n'a été modifié.
group-lookup-failed = Impossible de trouver { $group } : { $why }. Rien n'a été modifié ; réessayez dans un instant.
group-why = { $why ->
        [off] Microsoft Graph est désactivé (`[graph] enabled`)
        [gone] le groupe n'existe plus dans Entra ID
        [throttled] Microsoft Graph est surchargé (limitation)
        [refused] Microsoft Graph a refusé ({ $detail }) ; vérifiez les permissions Graph de l'application
       *[unreachable] Microsoft Graph est injoignable
    }
list-groups-head = Groupes (membres résolus à l'instant) :
list-group-line = - { $name } ({ $label }) : { $members ->
        [one] { $members } membre
       *[other] { $members } membres
    }, { $installed } { $installed ->
        [one] installé
       *[other] installés
    }
list-group-failed = - { $name } ({ $label }) : non résolu, { $why }
broadcast-groups-unresolved = Non envoyé : une annonce part à toute la liste ou pas du tout, et ces groupes de la liste n'ont pas pu être résolus. Réessayez dans un instant.
group-unresolved-line = - { $group } : { $why }
