# Reactions to herald's messages, in `broadcast info` and `campaign report`.

reaction-line = Reactions: { $reactions }
