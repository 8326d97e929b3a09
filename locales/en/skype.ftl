# Skype campaigns: what does not apply on Skype, said in `campaign info` and when a campaign is saved.

skype-presence-unknown = Skype has no presence status: herald asks no one's, and each recipient is treated as the setting campaigns.unknown_presence says.
skype-install-ignored = install: yes does nothing on Skype: herald can only reach Skype users who installed it themselves.
