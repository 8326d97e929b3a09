# Réactions aux messages de herald, dans `broadcast info` et `campaign report`.

reaction-line = Réactions : { $reactions }
