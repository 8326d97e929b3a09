# Sondages (`choix: A | B | C`) : refus montrés sur la carte, et le décompte de `diffusion info`.

poll-not-a-poll = Cette diffusion n'a pas de sondage.
poll-no-choice = Aucun choix n'a été donné.
poll-choice-not-a-number = `{ $value }` n'est pas un choix de ce sondage.
poll-no-such-choice = Ce choix n'existe pas : ce sondage a { $count } choix.
broadcast-info-poll = Sondage : { $answered } sur { $reached } { $reached ->
    [one] personne atteinte a répondu
   *[other] personnes atteintes ont répondu
  }
broadcast-info-poll-choice = • { $choice } : { $count } ({ $percent } %)
