import { openfuguProject } from '@openfugu/vitest-config';

export default openfuguProject('conductor');
