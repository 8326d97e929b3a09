# Les formulaires de campagne et de diffusion (cartes adaptatives).

form-campaign-new-title = Nouvelle campagne : { $name }
form-campaign-edit-title = Modifier la campagne : { $name }
form-schedule = Programmer
form-save = Enregistrer
form-label-list = Liste
form-label-start = Début (AAAA-MM-JJ HH:MM)
form-label-duration = Durée
form-label-hours = Horaires
form-label-timezone = Fuseau horaire
form-label-presence = Présence
form-label-channel = Canal
form-broadcast-title = Nouvelle diffusion
form-everyone = Tout le monde (tous les utilisateurs de herald)
form-label-audience = Destinataires
form-label-subject = Sujet (le texte de la notification)
form-send-now = Envoyer maintenant
form-label-remind = Relancer ceux qui ne l'ont pas lue après (par exemple 24h ; vide : pas de relance)
form-label-ack = Demander à chacun de confirmer avoir lu et compris
form-label-choices = Sondage : 2 à 6 choix séparés par | (vide : pas de sondage)
form-placeholder-choices = Oui | Non | Peut-être
