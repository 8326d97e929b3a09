# L'engagement sur les cartes de diffusion : accusés de lecture, sondages, relances ; et les lignes d'options.

broadcast-card-ack = J'ai lu et compris
broadcast-card-acked = ✓ Lu et compris le { $at }
broadcast-card-reminder = 🔔 Relance : { $subject }
broadcast-card-chosen = Votre réponse : { $choice }

field-choices-count = { $count ->
    [one] 1 choix est donné
   *[other] { $count } choix sont donnés
  } ; un sondage en a de { $min } à { $max }
field-choice-empty = le choix { $position } est vide
field-choice-too-long = le choix `{ $choice }` fait { $length } caractères, { $max } au plus
field-choice-twice = le choix `{ $choice }` est donné deux fois
