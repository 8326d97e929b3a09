# Mots et fragments communs à plusieurs fonctions.

members = { $count ->
    [one] { $count } membre
   *[other] { $count } membres
}
