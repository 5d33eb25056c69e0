// echarts-gl ships no types; it is imported only for its side effect (registering 3-D series).
declare module 'echarts-gl';
