# Campagnes Skype : ce qui ne s'applique pas sur Skype, dit dans `campagne info` et à l'enregistrement.

skype-presence-unknown = Skype n'a pas de statut de présence : herald ne le demande pour personne, et chaque destinataire est traité comme le dit le réglage campaigns.unknown_presence.
skype-install-ignored = installer: oui ne fait rien sur Skype : herald ne peut joindre que les utilisateurs Skype qui l'ont installé eux-mêmes.
