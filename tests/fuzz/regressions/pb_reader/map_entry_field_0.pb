*
emJ
kJvJ
ksecondR	
rolex
emJ