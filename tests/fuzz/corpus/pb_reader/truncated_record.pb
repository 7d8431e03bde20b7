

e1m1Èabc