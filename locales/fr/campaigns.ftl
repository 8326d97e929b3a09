# Campagnes : les réponses à leurs commandes, les libellés de leurs champs, les erreurs de leurs règles.

campaign-not-saved = La campagne n'a pas été enregistrée :
campaign-name-taken = Une campagne nommée { $name } existe déjà.
campaign-scheduled = Campagne { $name } programmée.
campaign-updated = Campagne { $name } modifiée.
campaign-deleted = Campagne { $name } supprimée.
campaign-unknown = Il n'y a pas de campagne nommée { $name }. Tapez **campagnes** pour les voir.
campaign-started-no-edit = La campagne { $name } a commencé : elle ne peut plus être modifiée.
campaign-running-no-delete = La campagne { $name } est en cours : elle ne peut être ni annulée ni supprimée avant la fin.
campaigns-none = Aucune campagne.
campaigns-line = - { $name } — { $status } — { $start } — { $delivered }/{ $targeted } remis{ $progress }
campaign-unknown-placeholders = Attention : { $placeholders } { $count ->
        [one] n'est pas un champ connu
       *[other] ne sont pas des champs connus
    } ([FIRSTNAME] et [LASTNAME] le sont) ; le texte partira tel quel.
campaign-not-an-email = `{ $value }` n'est pas un email.
campaign-test-not-installed = { $email } n'a pas installé herald.
campaign-test-bad-service-url = l'URL de service de l'utilisateur n'est pas valide
campaign-test-host-not-allowed = Le test n'a pas été envoyé : herald n'appelle pas { $host }, absent de bot.service_url_hosts.
campaign-test-sent = Test de { $name } envoyé à { $email }.
campaign-test-failed = Le test n'a pas pu être envoyé : { $error }

# Les réglages d'une campagne tels que `campagne info` les montre.
campaign-label-channel = canal :
campaign-label-list = liste :
campaign-label-start = début :
campaign-label-duration = durée :
campaign-label-hours = horaires :
campaign-label-timezone = fuseau :
campaign-label-presence = présence :
campaign-label-message = message :

# Les erreurs propres aux règles d'un champ.
duration-invalid = `{ $value }` n'est pas une durée : { $why ->
        [empty] elle est vide
        [units] utilisez seulement des nombres suivis de m, h ou j
        [number-first] chaque unité doit suivre un nombre
        [order] donnez les jours, puis les heures, puis les minutes, chacun une fois
        [too-large] le nombre est trop grand
        [no-unit] un nombre doit être suivi de son unité (m, h ou j)
        [zero] elle doit être plus longue que zéro
       *[too-long] elle doit être d'au plus 366 jours
    }. Exemples : 90m, 2h, 3j, 1h30m
presence-invalid = `{ $value }` n'est pas une règle de présence. Utilisez any, available ou available,away,busy
template-empty = le message est vide
template-invalid = le message n'a pas pu être préparé : { $reason }
template-not-personalised = le message n'a pas pu être personnalisé : { $reason }
