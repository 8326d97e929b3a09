# Ce que herald dit à tous : accueil, aide, refus, journal d'audit.

welcome = Bonjour ! Je suis **herald**. Votre entreprise m'utilise pour vous envoyer ses annonces et ses messages. Tapez **aide** pour voir ce que je sais faire.
welcome-named = Bonjour { $name } ! Je suis **herald**. Votre entreprise m'utilise pour vous envoyer ses annonces et ses messages. Tapez **aide** pour voir ce que je sais faire.
help = **herald** remet les campagnes et les diffusions de votre entreprise directement dans Teams.

    - **aide** : ce message

    Vous recevrez ici les messages que vos administrateurs vous envoient. Pour répondre à une diffusion, utilisez son bouton **Répondre** ou écrivez simplement ici : votre message est transmis à son expéditeur.
# Ce qu'un administrateur écrit est lu comme une commande : seul le bouton répond.
help-for-admins = **herald** remet les campagnes et les diffusions de votre entreprise directement dans Teams.

    - **aide** : ce message

    Vous recevrez ici les messages que vos administrateurs vous envoient. Pour répondre à une diffusion, utilisez son bouton **Répondre** (ce que vous écrivez ici est lu comme une commande).
hint = Je n'ai pas compris. Tapez **aide** pour voir ce que je sais faire.
channel-not-served = herald fonctionne dans Microsoft Teams : retrouvez-moi là-bas.
admin-help = **herald** — commandes d'administration :

    - **listes** : vos listes de diffusion
    - **liste créer** *nom* *emails…* : crée une liste
    - **liste ajouter** / **retirer** *nom* *emails…*
    - **liste afficher** *nom* [*page*] : les membres, installés ou non, par pages
    - **liste supprimer** *nom*
    - **campagnes** : vos campagnes et leur avancement
    - **campagne créer** *nom*, puis une ligne par champ (liste:, canal:, début:, durée:, horaires:, fuseau:, présence:, installer: oui pour installer herald aux membres qui ne l'ont pas) et **message:** suivi du texte
    - **campagne modifier** *nom* + les champs à changer (avant le début)
    - **campagne info** / **rapport** / **supprimer** *nom*
    - **campagne essayer** *nom* *email* : envoie le message maintenant à une personne
    - **campagne renvoyer** *nom* : la renvoie, une fois, à ceux dont l'envoi a échoué et aux membres de la liste qui ont installé herald depuis
    - **diffusion** *liste* (ou **tous**), puis **sujet:** et le texte en dessous : envoie maintenant (**diffusion** seul ouvre le formulaire). Des lignes d'options peuvent venir en premier : **installer: oui** installe herald aux membres qui ne l'ont pas, **relance: 24h** relance ceux qui ne l'ont pas lue après ce délai (aux heures ouvrées), **accusé: oui** demande à chacun de confirmer avoir lu et compris, **choix: Oui | Non | Peut-être** ajoute un sondage (2 à 6 choix)
    - **diffusions** : les dernières diffusions, remises et lues
    - **diffusion info** *n°* : le détail, et qui ne l'a pas encore lue
    - **diffusion relancer** *n°* : relance ceux qui ne l'ont pas lue (ou pas confirmée, quand un accusé est demandé)
    - **diffusion supprimer** *n°* : la retire de toutes les conversations
    - **diffusion renvoyer** *n°* : la renvoie à ceux dont la carte a échoué et aux membres de la liste qui ont installé herald depuis
    - **envoi: 2026-12-01 09:00** en ligne d'option de **diffusion** la programme pour cette heure (la vôtre, ou **fuseau: Europe/Paris**) ; d'ici là **diffusion modifier** *n°* suivi des mêmes lignes la remplace, **diffusion supprimer** *n°* l'annule
    - **audit** [*page*] : les dernières actions d'administration

    Les emails peuvent être séparés par des espaces, des virgules ou des retours à la ligne.
    Une liste peut aussi nommer des groupes Entra ID parmi ses emails : **groupe:** suivi de l'adresse ou de l'identifiant d'objet du groupe (groupes imbriqués compris, résolus à chaque envoi ; nécessite Microsoft Graph).
refusal = Désolé, seuls les administrateurs de herald peuvent utiliser cette commande. Demandez à votre équipe informatique si vous avez besoin d'un accès.

list-members-head = { $name }: { $installed }/{ $total } installés
list-member-line = { $installed ->
    [yes] - { $email } (installé)
   *[no] - { $email } (non installé)
}
list-page-footer = { $last ->
    [yes] Page { $page } sur { $pages }, la dernière.
   *[no] Page { $page } sur { $pages }. Page suivante : tapez **liste afficher { $name } { $next }**.
}
list-no-such-page = { $bold } n'a que { $pages } pages de membres : tapez **liste afficher { $name } { $pages }** pour la dernière.
list-in-use = La liste { $list } n'a pas été supprimée : des campagnes programmées ou en cours l'utilisent ({ $campaigns }). Modifiez ou supprimez ces campagnes, ou attendez leur fin.

not-audited = Attention : l'action a été faite, mais elle n'a pas pu être inscrite au journal d'audit. Prévenez votre équipe informatique.
audit-head = **Journal d'audit** (page { $page }/{ $pages }, les plus récentes d'abord) :
audit-more = Tapez **audit { $next }** pour la suite.
audit-empty = { $pages ->
    [0] Le journal d'audit est vide.
   *[other] Il n'y a pas de page { $page } : le journal en a { $pages }.
}
