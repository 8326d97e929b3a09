# Ce qui n'allait pas dans un champ d'une campagne ou d'une diffusion.

field-error-line = { $field } : { $problem } (par exemple `{ $example }`)
field-missing = manquant
field-empty = il est vide
field-invalid = { $reason }
field-not-a-line = `{ $line }` n'est pas une ligne `champ: valeur`
field-no-list-named = aucune liste nommée
field-not-a-channel = `{ $value }` n'est ni teams ni skype
field-not-a-date-time = `{ $value }` n'est pas une date et une heure au format AAAA-MM-JJ HH:MM
field-not-a-time-zone = `{ $value }` n'est pas un fuseau horaire IANA
field-unknown = `{ $name }` n'est pas un champ de campagne (liste, canal, début, durée, horaires, fuseau, présence, installer, heure, répéter, message)
field-unknown-list = il n'y a pas de liste nommée `{ $name }` (tapez listes pour les voir)
field-start-in-past = { $start } est déjà passé
field-window-outside-hours = la fenêtre de { $duration } à partir du début ne contient aucune heure ouvrée ({ $hours })
field-list-gone = la liste a été supprimée pendant l'enregistrement de la campagne
field-choose-audience = choisissez une liste ou tout le monde
field-subject-first = la première ligne doit être le sujet
field-one-line = il doit tenir sur une ligne
field-too-long = il fait { $length } caractères, { $max } au plus
field-too-heavy = trop long pour Teams : une fois personnalisé et envoyé, il pèserait { $weight } octets, au-delà de la limite de { $kb } Ko ({ $limit } octets par message, comptés comme Teams : 2 par caractère, place gardée pour les noms, les liens suivis et l'enveloppe) ; raccourcissez-le d'au moins { $cut } caractères
