return {num(setting_limit('capacityBytes')), num(counter('usedSpace')), num(setting_limit('inodeLimit')),
  num(counter('usedInodes'))}
